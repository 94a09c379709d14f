/**
 * Passkeys: registration by a signed-in user (after a recent sign-in, like every new factor) and passwordless
 * sign-in with a discoverable passkey that verified the user (PIN or biometric) — a multi-factor authentication on
 * its own (`amr` hwk + user + mfa, `acr` aal2).
 */
import type { FastifyInstance } from 'fastify';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

import { clientInfo } from '../http/client-info.js';
import { HttpError } from '../http/errors.js';
import { factorNameSchema, factorSchema, publicFactor } from '../http/mfa-schemas.js';
import { authRateLimit } from '../http/rate-limit.js';
import { authErrors, tokenResponseSchema } from '../http/schemas.js';
import { tokenResponse } from '../http/token-response.js';
import { ACR } from '../services/mfa.js';
import type { SessionDelivery } from '../store/index.js';
import { authOf, requireStepUp } from './auth.js';

const credentialSchema = {
  type: 'object',
  required: ['id', 'response'],
  additionalProperties: true,
} as const;

/** The `amr` of a passwordless passkey sign-in (RFC 8176: key, user verified, more than one factor). */
export const PASSWORDLESS_AMR = ['hwk', 'user', 'mfa'] as const;

/** Registers the `/api/passkeys` routes. */
export async function passkeysPlugin(app: FastifyInstance): Promise<void> {
  const { store, sessions, events, config, mfa, metrics } = app.jot;
  const fresh = requireStepUp({ always: true });
  const limit = { rateLimit: authRateLimit(config) };

  app.post(
    '/api/passkeys/register/options',
    {
      preHandler: fresh,
      schema: { tags: ['mfa'], summary: 'WebAuthn options to create a passkey for the signed-in user.' },
    },
    async (request, reply) => {
      const user = await store.getUserById(authOf(request).claims.sub);
      if (user === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'the account no longer exists');
      reply.header('cache-control', 'no-store');
      return mfa.passkeys.registrationOptions(user);
    },
  );

  app.post<{ Body: { credential: Record<string, unknown>; name?: string } }>(
    '/api/passkeys/register',
    {
      preHandler: fresh,
      schema: {
        tags: ['mfa'],
        summary:
          'Store a new passkey. The first factor of an account also gets 10 recovery codes (shown once).',
        body: {
          type: 'object',
          required: ['credential'],
          additionalProperties: false,
          properties: { credential: credentialSchema, name: factorNameSchema },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              factor: factorSchema,
              recovery_codes: { type: 'array', items: { type: 'string' } },
            },
          },
          ...authErrors,
          409: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const user = await store.getUserById(claims.sub);
      if (user === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'the account no longer exists');
      const factor = await mfa.passkeys.register(
        user,
        request.body.credential as unknown as RegistrationResponseJSON,
        request.body.name?.trim() || 'Passkey',
      );
      const codes =
        (await mfa.factors.recoveryCodesLeft(user.id)) === 0
          ? await mfa.factors.newRecoveryCodes(user.id)
          : undefined;
      await events.record('mfa_enrolled', {
        userId: user.id,
        sessionId: claims.sid,
        ip: request.ip,
        detail: { kind: 'webauthn' },
      });
      return reply.code(201).send({ factor: publicFactor(factor), recovery_codes: codes });
    },
  );

  app.post(
    '/api/passkeys/login/options',
    {
      config: limit,
      schema: { tags: ['accounts'], summary: 'WebAuthn options for a passwordless sign-in with a passkey.' },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return mfa.passkeys.authenticationOptions();
    },
  );

  app.post<{ Body: { credential: Record<string, unknown>; delivery?: SessionDelivery } }>(
    '/api/passkeys/login',
    {
      config: limit,
      schema: {
        tags: ['accounts'],
        summary: 'Passwordless sign-in with a passkey (user verification required).',
        body: {
          type: 'object',
          required: ['credential'],
          additionalProperties: false,
          properties: {
            credential: credentialSchema,
            delivery: { type: 'string', enum: ['bearer', 'cookie', 'memory'] },
          },
        },
        response: {
          200: tokenResponseSchema,
          400: { $ref: 'JotError#' },
          401: { $ref: 'JotError#' },
          403: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const verified = await mfa.passkeys.verifyAssertion(
        request.body.credential as unknown as AuthenticationResponseJSON,
        { requireUserVerification: true },
      );
      const user = await store.getUserById(verified.userId);
      if (user === undefined || user.status !== 'active') {
        throw new HttpError(403, 'ERR_USER_DISABLED', 'this account is disabled; contact an administrator');
      }
      metrics.logins.inc({ result: 'success' });
      const pair = await sessions.start(user, clientInfo(request), {
        delivery: request.body.delivery ?? config.tokenDelivery,
        amr: PASSWORDLESS_AMR,
        acr: ACR.multi,
      });
      return tokenResponse(request, reply, pair);
    },
  );
}
