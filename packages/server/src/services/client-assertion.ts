/**
 * RFC 7523 §2.2 / §3 client assertions (`private_key_jwt`, `client_secret_jwt`): a JWT whose `iss` and `sub` are
 * the client_id, whose `aud` is this server (its issuer or the endpoint), short-lived, signed with the client's
 * registered key — by an algorithm that key allows, so an HS assertion never passes for a key-pair client and
 * `none` never passes at all — and whose `jti` is used once across every instance (an INSERT on a primary key).
 * Checked in the order that keeps forgeries cheap: size, shape, client, signature and claims, lifetime, then the
 * `jti`, so a forged assertion cannot use up a real client's ids.
 */
import { Buffer } from 'node:buffer';

import {
  ALGORITHMS,
  createVerifier,
  decodeUnverified,
  importSecret,
  isJoseError,
  type Algorithm,
  type JWTVerifier,
  type Key,
  type KeyResolver,
  type VerifiedJWT,
} from '@jot/jose';

import type { Clock } from '../clock.js';
import type { OAuthClient, Store } from '../store/index.js';
import type { ClientKeys } from './client-keys.js';
import { hashSecret } from './secrets.js';
import { DomainError } from './errors.js';
import { echoed } from './echoed.js';

/** Assertions longer than this are refused before any decoding. */
export const MAX_ASSERTION_LENGTH = 8192;

/** `typ` values an assertion may carry (absent, plain JWT, or draft-ietf-oauth-rfc7523bis's explicit type). */
const ASSERTION_TYPS: ReadonlySet<string> = new Set(['jwt', 'client-authentication+jwt']);

/** What the assertion check needs. */
export interface AssertionDeps {
  store: Store;
  keys: ClientKeys;
  /** The HMAC key of a `client_secret_jwt` client. */
  openSecret(client: OAuthClient): string | undefined;
  clock: Clock;
  maxLifetimeMs: number;
  clockToleranceSeconds: number;
}

function refused(message: string): never {
  throw new DomainError(
    'client',
    'ERR_CLIENT_ASSERTION_INVALID',
    `the client assertion is not valid: ${message}`,
  );
}

function algorithmsOf(keys: readonly Key[], family: 'asymmetric' | 'oct'): Algorithm[] {
  const algs = new Set<Algorithm>();
  for (const key of keys) {
    for (const alg of key.algorithms) {
      const isOct = ALGORITHMS.get(alg)?.family === 'oct';
      if (isOct === (family === 'oct')) algs.add(alg);
    }
  }
  return [...algs];
}

/** Size, shape and `iss` = `sub` = the client_id: the registered client the assertion claims to come from. */
async function claimedClient(
  deps: AssertionDeps,
  assertion: string,
  clientIdParam: string | undefined,
): Promise<OAuthClient> {
  if (assertion.length > MAX_ASSERTION_LENGTH) refused(`it is longer than ${MAX_ASSERTION_LENGTH} bytes`);
  let iss: unknown;
  let sub: unknown;
  try {
    ({ iss, sub } = decodeUnverified(assertion, { maxTokenLength: MAX_ASSERTION_LENGTH }).payload);
  } catch {
    refused('it is not a JWT');
  }
  if (typeof iss !== 'string' || iss !== sub) refused('"iss" and "sub" must both be the client_id');
  if (clientIdParam !== undefined && clientIdParam !== iss) refused('"iss" is not the client_id parameter');
  const client = await deps.store.getClient(iss);
  if (client === undefined)
    throw new DomainError('client', 'ERR_CLIENT_AUTH_FAILED', 'client authentication failed');
  return client;
}

/** The client's keys and the algorithms they allow: key pairs for `private_key_jwt`, the secret for `client_secret_jwt`. */
async function keysOf(
  deps: AssertionDeps,
  client: OAuthClient,
): Promise<{ resolver: KeyResolver; algorithms: Algorithm[] }> {
  let keys: { resolver: KeyResolver; algorithms: Algorithm[] };
  if (client.authMethod === 'private_key_jwt') {
    const set = await deps.keys.keysFor(client).catch(() => refused("the client's keys cannot be loaded"));
    keys = { resolver: set, algorithms: algorithmsOf(set.keys, 'asymmetric') };
  } else if (client.authMethod === 'client_secret_jwt') {
    const secret = deps.openSecret(client);
    if (secret === undefined) refused('the client has no secret');
    const key = importSecret(Buffer.from(secret, 'utf8'));
    keys = { resolver: key, algorithms: algorithmsOf([key], 'oct') };
  } else {
    throw new DomainError(
      'client',
      'ERR_CLIENT_AUTH_FAILED',
      `this client authenticates with ${client.authMethod}, not an assertion`,
    );
  }
  if (keys.algorithms.length === 0) refused('the client has no usable key');
  return keys;
}

/** Signature and claims; a `kid` not yet known may be the client's new key, so its `jwks_uri` is refetched once. */
async function verifySigned(
  deps: AssertionDeps,
  client: OAuthClient,
  assertion: string,
  audiences: readonly string[],
): Promise<VerifiedJWT> {
  const { resolver, algorithms } = await keysOf(deps, client);
  const verifierFor = (keys: KeyResolver): JWTVerifier =>
    createVerifier(keys, {
      algorithms,
      issuer: client.clientId,
      subject: client.clientId,
      audience: audiences,
      requiredClaims: ['jti', 'iss', 'sub', 'aud', 'exp'],
      clockTolerance: deps.clockToleranceSeconds,
      maxTokenLength: MAX_ASSERTION_LENGTH,
    });
  const at = { currentDate: new Date(deps.clock()) };
  try {
    try {
      return verifierFor(resolver)(assertion, at);
    } catch (err) {
      // A kid we do not know may be the client's new key: refetch its jwks_uri once (rate-limited) and retry.
      const fresh = isJoseError(err, 'ERR_JWKS_NO_MATCHING_KEY')
        ? await deps.keys.refresh(client)
        : undefined;
      if (fresh === undefined) throw err;
      return verifierFor(fresh)(assertion, at);
    }
  } catch (err) {
    if (isJoseError(err)) refused(err.message);
    throw err;
  }
}

/** The `typ`, if any, names a client assertion, and the lifetime (`exp` - `iat`) is within the server's bound. */
function checkTypeAndLifetime(deps: AssertionDeps, { header, payload }: VerifiedJWT): void {
  if (
    typeof header.typ === 'string' &&
    !ASSERTION_TYPS.has(header.typ.toLowerCase().replace(/^application\//, ''))
  ) {
    refused(`"typ" ${echoed(header.typ)} is not a client assertion`);
  }
  const exp = payload.exp as number;
  const issuedAt = typeof payload.iat === 'number' ? payload.iat : Math.floor(deps.clock() / 1000);
  if ((exp - issuedAt) * 1000 > deps.maxLifetimeMs + deps.clockToleranceSeconds * 1000) {
    refused(
      `its lifetime (exp - iat) is over the ${Math.floor(deps.maxLifetimeMs / 1000)} s this server accepts`,
    );
  }
}

/** Uses the `jti` up, once across every instance, until the assertion expires. */
async function useJti(deps: AssertionDeps, client: OAuthClient, { payload }: VerifiedJWT): Promise<void> {
  const jti = payload.jti as string;
  if (jti.length > 256) refused('"jti" is longer than 256 characters');
  const first = await deps.store.recordAssertionJti(
    hashSecret(`${client.clientId}\n${jti}`),
    client.clientId,
    (payload.exp as number) * 1000 + deps.clockToleranceSeconds * 1000,
  );
  if (!first) {
    throw new DomainError(
      'client',
      'ERR_CLIENT_ASSERTION_REPLAYED',
      'this client assertion was already used; make a new one (fresh "jti")',
    );
  }
}

/**
 * Verifies a client assertion for the endpoint at one of `audiences`; returns the authenticated client.
 * @throws {DomainError} of kind `client`, naming what was wrong.
 */
export async function verifyClientAssertion(
  deps: AssertionDeps,
  assertion: string,
  audiences: readonly string[],
  clientIdParam: string | undefined,
): Promise<OAuthClient> {
  const client = await claimedClient(deps, assertion, clientIdParam);
  const verified = await verifySigned(deps, client, assertion, audiences);
  checkTypeAndLifetime(deps, verified);
  await useJti(deps, client, verified);
  return client;
}
