/**
 * Passkeys (WebAuthn Level 3) through `@simplewebauthn/server`: registration of several credentials per user, and
 * assertions for a second factor or for passwordless sign-in. The relying-party id and the allowed origins come
 * from the configuration. Every challenge is stored hashed in `mfa_challenges`. A response naming it first takes one
 * of its `PASSKEY_CHALLENGE_ATTEMPTS` (a conditional UPDATE, before anything is checked); only a response that
 * verifies then consumes it (another conditional UPDATE), so one challenge verifies at most once across every
 * instance, and a response that fails — a forged one from anyone who learned the challenge — does not spend it.
 * The library is loaded with the first passkey operation (lazy-webauthn.ts), not with the server.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
  WebAuthnCredential,
} from '@simplewebauthn/server';

import type { Config } from '../config/index.js';
import type { Clock } from '../clock.js';
import { StoreError, type MfaChallengeKind, type MfaFactor, type Store, type User } from '../store/index.js';
import { hashSecret } from './secrets.js';
import { DomainError } from './errors.js';
import { webauthnServer } from './lazy-webauthn.js';
import { assertionShape, passkeyMalformed, registrationShape, type PasskeyShape } from './passkey-shape.js';

const CHALLENGE_TTL_MS = 5 * 60_000;

/**
 * The COSE algorithms a passkey may use: EdDSA (-8), ES256 (-7), RS256 (-257), in that order of preference — named
 * here rather than left to `@simplewebauthn/server`'s default, which adds ML-DSA-44 (-48) first wherever the Node
 * release's Web Crypto has it (Node 24, as an experimental feature that warns on stderr, not Node 20 or 22). A passkey
 * registered with it would then stop signing in after a move back to an older Node, or on an older instance of the
 * same cluster.
 */
const PASSKEY_ALGORITHMS = [-8, -7, -257];

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
   * (passwordless sign-in). Throws `ERR_PASSKEY_MALFORMED` (400) for a credential whose structure does not decode, and
   * `ERR_PASSKEY_INVALID` (a grant error: 401 at a sign-in, 403 for a signed-in user) for one that does not verify.
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

/** Where a logger takes the library's own reason for a refusal (debug level). */
export interface PasskeyLog {
  debug(details: object, message: string): void;
}

/** The library's message without its quoted values (a challenge, an origin, a type the caller sent). */
function libraryReason(err: unknown): { name: string; message: string } {
  if (!(err instanceof Error)) return { name: typeof err, message: '' };
  return { name: err.name, message: err.message.replace(/"[^"]*"/g, '"…"').slice(0, 200) };
}

/** What a verification knows beyond the library's answer: the decoded credential and what the challenge gate saw. */
interface Attempt {
  shape: PasskeyShape;
  /** The client data type this ceremony needs (`webauthn.create`, `webauthn.get`). */
  type: string;
  /** Whether the challenge was found live and taken (undefined: the library never asked). */
  challengeTaken: () => boolean | undefined;
  requireUserVerification: boolean;
  /** Why a well-formed response that did not verify was refused, when no better reason is known. */
  refusal: string;
}

/**
 * Why a well-formed response did not verify, in Jot's words, from what the credential says: the library's checks
 * in its own order (type, challenge, origin, RP id, user verification); anything else is `refusal` (a signature
 * that does not verify, a counter that went back, an attestation that does not hold).
 */
function reasonOf(deps: PasskeyDeps, attempt: Attempt): string {
  const { clientData, rpIdHash, userVerified } = attempt.shape;
  if (clientData.type !== attempt.type) {
    return `the client data is not of type ${attempt.type}; answer the options of this ceremony`;
  }
  if (attempt.challengeTaken() !== true) {
    return 'its challenge is unknown, expired, already used or out of attempts; ask for new options';
  }
  if (!deps.origins.includes(clientData.origin)) {
    return 'it was made on an origin this server does not accept (JOT_WEBAUTHN_ORIGINS)';
  }
  if (!Buffer.from(rpIdHash).equals(createHash('sha256').update(deps.rpID).digest())) {
    return 'it was made for another relying party (RP id)';
  }
  if (attempt.requireUserVerification && !userVerified) {
    return 'the authenticator did not verify the user (PIN or biometric), which this sign-in requires';
  }
  return attempt.refusal;
}

/**
 * Runs one `@simplewebauthn` verification of a credential whose structure decoded (`attempt.shape`): what it
 * throws and a result that did not verify are both `ERR_PASSKEY_INVALID` with Jot's reason (`reasonOf`), never a
 * 500 and never the library's text, which goes to the debug log without the values it quotes. A TypeError or
 * RangeError is data the structure check let through but the library could not read: `ERR_PASSKEY_MALFORMED`.
 */
async function verifiedOrInvalid<T extends { verified: boolean }>(
  deps: PasskeyDeps,
  attempt: Attempt,
  verify: () => Promise<T>,
): Promise<T & { verified: true }> {
  let result: T;
  try {
    result = await verify();
  } catch (err) {
    // The challenge gate's own failures (a database that is down) are not the response's.
    if (err instanceof DomainError || err instanceof StoreError) throw err;
    deps.log?.debug({ reason: libraryReason(err) }, 'passkey response refused by the WebAuthn library');
    if (err instanceof TypeError || err instanceof RangeError) {
      throw passkeyMalformed('its data could not be decoded');
    }
    throw passkeyInvalid(reasonOf(deps, attempt));
  }
  if (!result.verified) throw passkeyInvalid(attempt.refusal);
  return result as T & { verified: true };
}

/** What the passkey operations work with. */
interface PasskeyDeps {
  store: Store;
  config: Config;
  clock: Clock;
  rpID: string;
  origins: string[];
  log?: PasskeyLog;
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
): {
  expected: (challenge: string) => Promise<boolean>;
  taken: () => boolean | undefined;
  consume: () => Promise<boolean>;
} {
  let idHash: string | undefined;
  let taken: boolean | undefined;
  return {
    expected: async (challenge) => {
      const hash = hashSecret(`webauthn:${challenge}`);
      const record = await store.mfa.takeAttempt(hash, kind, PASSKEY_CHALLENGE_ATTEMPTS);
      taken = record !== undefined && (record.userId === null || record.userId === userId);
      if (!taken) return false;
      idHash = hash;
      return true;
    },
    taken: () => taken,
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
  const { generateRegistrationOptions } = await webauthnServer.load();
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
    supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
  });
}

/** Verifies an attestation against a registration challenge issued for `user`; returns the new credential. */
async function verifiedCredential(
  deps: PasskeyDeps,
  user: User,
  response: RegistrationResponseJSON,
): Promise<WebAuthnCredential> {
  const { verifyRegistrationResponse } = await webauthnServer.load();
  const shape = await registrationShape(response);
  const gate = challengeGate(deps.store, 'webauthn_register', user.id);
  const attempt: Attempt = {
    shape,
    type: 'webauthn.create',
    challengeTaken: gate.taken,
    requireUserVerification: false,
    refusal: 'the registration did not verify',
  };
  const result = await verifiedOrInvalid(deps, attempt, () =>
    verifyRegistrationResponse({
      response,
      expectedChallenge: gate.expected,
      expectedOrigin: deps.origins,
      expectedRPID: deps.rpID,
      requireUserVerification: false,
      supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
    }),
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
  const { generateAuthenticationOptions } = await webauthnServer.load();
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
  const { verifyAuthenticationResponse } = await webauthnServer.load();
  const shape = await assertionShape(response);
  const factor = await assertedFactor(deps.store, response, options.userId);
  const gate = challengeGate(deps.store, 'webauthn_login', factor.userId);
  const attempt: Attempt = {
    shape,
    type: 'webauthn.get',
    challengeTaken: gate.taken,
    requireUserVerification: options.requireUserVerification,
    refusal: 'the signature did not verify',
  };
  const verified = await verifiedOrInvalid(deps, attempt, () =>
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
export function createPasskeyService(deps: {
  store: Store;
  config: Config;
  clock: Clock;
  log?: PasskeyLog;
}): PasskeyService {
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
