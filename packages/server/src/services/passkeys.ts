/**
 * Passkeys (WebAuthn Level 3) through `@simplewebauthn/server`: registration of several credentials per user, and
 * assertions for a second factor or for passwordless sign-in. The relying-party id and the allowed origins come
 * from the configuration. Every challenge is stored hashed in `mfa_challenges`. A response naming it first takes one
 * of its `PASSKEY_CHALLENGE_ATTEMPTS` (a conditional UPDATE, before anything is checked); only a response that
 * verifies then consumes it (another conditional UPDATE), so one challenge verifies at most once across every
 * instance, and a response that fails — a forged one from anyone who learned the challenge — does not spend it.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  type WebAuthnCredential,
} from '@simplewebauthn/server';

import type { Config } from '../config/index.js';
import type { Clock } from '../clock.js';
import type { MfaChallengeKind, MfaFactor, Store, User } from '../store/index.js';
import { hashSecret } from './secrets.js';
import { DomainError } from './errors.js';

const CHALLENGE_TTL_MS = 5 * 60_000;

/**
 * Responses one challenge may be answered with, failed ones included, before it is dead. A browser answers a
 * challenge once; the others are retries or forgeries, and the bound keeps them from trying a challenge for its
 * whole lifetime.
 */
export const PASSKEY_CHALLENGE_ATTEMPTS = 5;

/** A verified assertion. */
export interface VerifiedPasskey {
  userId: string;
  factorId: string;
  /** The authenticator verified the user (PIN or biometric), not only their presence. */
  userVerified: boolean;
}

/** The passkey service. */
export interface PasskeyService {
  registrationOptions(user: User): Promise<PublicKeyCredentialCreationOptionsJSON>;
  register(user: User, response: RegistrationResponseJSON, name: string): Promise<MfaFactor>;
  /** Options for an assertion: the user's passkeys when `userId` is given, else any discoverable one. */
  authenticationOptions(userId?: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /**
   * Verifies an assertion; `userId` limits it to that user's passkeys, `requireUserVerification` demands UV
   * (passwordless sign-in). Throws `ERR_PASSKEY_INVALID` (a grant error: 401 at a sign-in, 403 for a signed-in user).
   */
  verifyAssertion(
    response: AuthenticationResponseJSON,
    options: { userId?: string; requireUserVerification: boolean },
  ): Promise<VerifiedPasskey>;
}

/** The grant error for a passkey response that does not verify (a signed-in user's: 403, see mfa-enrolment.ts). */
export function passkeyInvalid(why: string): DomainError {
  return new DomainError('grant', 'ERR_PASSKEY_INVALID', `the passkey could not be verified: ${why}`);
}

function why(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 200) : 'verification failed';
}

/**
 * Runs one `@simplewebauthn` verification: what it throws (wrong challenge, origin or RP id, malformed data) and a
 * result that did not verify are both 401 `ERR_PASSKEY_INVALID` (`refusal` says why for the latter), never a 500.
 */
async function verifiedOrInvalid<T extends { verified: boolean }>(
  verify: () => Promise<T>,
  refusal: string,
): Promise<T & { verified: true }> {
  let result: T;
  try {
    result = await verify();
  } catch (err) {
    throw passkeyInvalid(why(err));
  }
  if (!result.verified) throw passkeyInvalid(refusal);
  return result as T & { verified: true };
}

/** What the passkey operations work with. */
interface PasskeyDeps {
  store: Store;
  config: Config;
  clock: Clock;
  rpID: string;
  origins: string[];
}

/** A fresh challenge, recorded by the hash of its base64url form (what the client data carries back). */
async function newChallenge(
  { store, clock }: PasskeyDeps,
  kind: MfaChallengeKind,
  userId: string | null,
): Promise<Uint8Array<ArrayBuffer>> {
  const challenge = randomBytes(32);
  await store.mfa.insertChallenge({
    idHash: hashSecret(`webauthn:${challenge.toString('base64url')}`),
    kind,
    userId,
    expiresAt: clock() + CHALLENGE_TTL_MS,
  });
  return Uint8Array.from(challenge);
}

/**
 * The challenge a response names, checked without spending it. `expected` is what @simplewebauthn calls with the
 * challenge from the client data — before the origin, RP id and signature checks — so it only takes one of the
 * challenge's attempts: true when it was live, unconsumed, of `kind`, issued for `userId` (or for anyone), and had an
 * attempt left. `consume` then spends it once the response verified: false when another response (on any instance)
 * spent it first.
 */
function challengeGate(
  store: Store,
  kind: MfaChallengeKind,
  userId: string,
): { expected: (challenge: string) => Promise<boolean>; consume: () => Promise<boolean> } {
  let idHash: string | undefined;
  return {
    expected: async (challenge) => {
      const hash = hashSecret(`webauthn:${challenge}`);
      const record = await store.mfa.takeAttempt(hash, kind, PASSKEY_CHALLENGE_ATTEMPTS);
      if (record === undefined || (record.userId !== null && record.userId !== userId)) return false;
      idHash = hash;
      return true;
    },
    consume: async () =>
      idHash !== undefined && (await store.mfa.consumeChallenge(idHash, kind)) !== undefined,
  };
}

/** Spends the challenge of a response that verified; refused when another response spent it first. */
async function spend(gate: { consume: () => Promise<boolean> }): Promise<void> {
  if (!(await gate.consume())) throw passkeyInvalid('this challenge was already used; ask for a new one');
}

async function passkeysOf(store: Store, userId: string): Promise<MfaFactor[]> {
  return (await store.mfa.listFactors(userId)).filter(
    (f) => f.kind === 'webauthn' && f.credentialId !== null,
  );
}

async function registrationOptions(
  deps: PasskeyDeps,
  user: User,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await passkeysOf(deps.store, user.id);
  return generateRegistrationOptions({
    rpName: deps.config.webauthnRpName,
    rpID: deps.rpID,
    userName: user.email,
    userDisplayName: user.name ?? user.email,
    userID: new TextEncoder().encode(user.id),
    challenge: await newChallenge(deps, 'webauthn_register', user.id),
    attestationType: 'none',
    excludeCredentials: existing.map((f) => ({ id: f.credentialId!, transports: f.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
  });
}

/** Verifies an attestation against a registration challenge issued for `user`; returns the new credential. */
async function verifiedCredential(
  deps: PasskeyDeps,
  user: User,
  response: RegistrationResponseJSON,
): Promise<WebAuthnCredential> {
  const gate = challengeGate(deps.store, 'webauthn_register', user.id);
  const result = await verifiedOrInvalid(
    () =>
      verifyRegistrationResponse({
        response,
        expectedChallenge: gate.expected,
        expectedOrigin: deps.origins,
        expectedRPID: deps.rpID,
        requireUserVerification: false,
      }),
    'the registration did not verify',
  );
  await spend(gate);
  return result.registrationInfo.credential;
}

async function register(
  deps: PasskeyDeps,
  user: User,
  response: RegistrationResponseJSON,
  name: string,
): Promise<MfaFactor> {
  const credential = await verifiedCredential(deps, user, response);
  try {
    return await deps.store.mfa.insertFactor({
      id: randomUUID(),
      userId: user.id,
      kind: 'webauthn',
      name,
      credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: credential.transports ?? [],
      confirmedAt: deps.clock(),
    });
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ERR_STORE_CONFLICT') {
      throw new DomainError('conflict', 'ERR_PASSKEY_EXISTS', 'this passkey is already registered');
    }
    throw err;
  }
}

async function authenticationOptions(
  deps: PasskeyDeps,
  userId: string | undefined,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const allow = userId === undefined ? [] : await passkeysOf(deps.store, userId);
  return generateAuthenticationOptions({
    rpID: deps.rpID,
    challenge: await newChallenge(deps, 'webauthn_login', userId ?? null),
    allowCredentials: allow.map((f) => ({ id: f.credentialId!, transports: f.transports })),
    userVerification: userId === undefined ? 'required' : 'preferred',
  });
}

/** The confirmed passkey an assertion names, of `userId` when given. */
async function assertedFactor(
  store: Store,
  response: AuthenticationResponseJSON,
  userId: string | undefined,
): Promise<MfaFactor & { publicKey: string }> {
  const factor =
    typeof response?.id === 'string' ? await store.mfa.getFactorByCredentialId(response.id) : undefined;
  if (factor === undefined || factor.publicKey === null || factor.confirmedAt === null) {
    throw passkeyInvalid('this passkey is not registered here');
  }
  if (userId !== undefined && factor.userId !== userId) {
    throw passkeyInvalid('this passkey belongs to another account');
  }
  return { ...factor, publicKey: factor.publicKey };
}

async function verifyAssertion(
  deps: PasskeyDeps,
  response: AuthenticationResponseJSON,
  options: { userId?: string; requireUserVerification: boolean },
): Promise<VerifiedPasskey> {
  const factor = await assertedFactor(deps.store, response, options.userId);
  const gate = challengeGate(deps.store, 'webauthn_login', factor.userId);
  const verified = await verifiedOrInvalid(
    () =>
      verifyAuthenticationResponse({
        response,
        expectedChallenge: gate.expected,
        expectedOrigin: deps.origins,
        expectedRPID: deps.rpID,
        credential: {
          id: factor.credentialId!,
          publicKey: Buffer.from(factor.publicKey, 'base64url'),
          counter: factor.counter,
          transports: factor.transports,
        },
        requireUserVerification: options.requireUserVerification,
      }),
    'the signature did not verify',
  );
  await spend(gate);
  await deps.store.mfa.touchFactor(factor.id, verified.authenticationInfo.newCounter);
  return {
    userId: factor.userId,
    factorId: factor.id,
    userVerified: verified.authenticationInfo.userVerified,
  };
}

/** Builds the passkey service. */
export function createPasskeyService(deps: { store: Store; config: Config; clock: Clock }): PasskeyService {
  const ctx: PasskeyDeps = {
    ...deps,
    rpID: deps.config.webauthnRpId,
    origins: [...deps.config.webauthnOrigins],
  };
  return {
    registrationOptions: (user) => registrationOptions(ctx, user),
    register: (user, response, name) => register(ctx, user, response, name),
    authenticationOptions: (userId) => authenticationOptions(ctx, userId),
    verifyAssertion: (response, options) => verifyAssertion(ctx, response, options),
  };
}
