/**
 * The answer of the WebAuthn-options routes (passwordless sign-in, the second sign-in step, step-up): assertion
 * options that no cache may keep, since each carries a fresh single-use challenge.
 */
import type { FastifyReply } from 'fastify';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';

/** Options for an assertion by one of `userId`'s passkeys, or by any discoverable passkey without a user. */
export function passkeyOptions(
  reply: FastifyReply,
  userId?: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  reply.header('cache-control', 'no-store');
  return reply.server.jot.mfa.passkeys.authenticationOptions(userId);
}
