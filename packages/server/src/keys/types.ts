/** The signing-key service contract the rest of the server relies on (implemented by `key-manager.ts`). */
import type { Algorithm, JWKS, Key, KeyResolver } from '@jot/jose';

import type { Config } from '../config/index.js';

/** What the admin API and logs may know about a signing key (never key material). */
export interface SigningKeyInfo {
  kid: string;
  alg: Algorithm;
  /** `pending`: published, not signing yet; `active`: signs new tokens; `retired`: published until its tokens expire. */
  state: 'pending' | 'active' | 'retired';
  createdAt: number;
  activatesAt: number;
  retiredAt: number | null;
  /** When it leaves the JWKS. */
  expiresAt: number | null;
}

/** A key taken out of the JWKS at once (its row deleted, so no instance can bring it back). */
export interface WithdrawnKeyInfo {
  kid: string;
  alg: Algorithm;
  withdrawnAt: number;
}

/**
 * What `withdraw(kid)` did: `withdrawn`; `active` — refused, the key signs now and nothing would replace it (use
 * `rotateAndWithdraw`); `unknown` — no published key has this kid (never existed, expired, or withdrawn already).
 */
export type KeyWithdrawal =
  | ({ outcome: 'withdrawn' } & WithdrawnKeyInfo)
  | { outcome: 'active'; kid: string }
  | { outcome: 'unknown'; kid: string };

/** Signing keys: stored encrypted, rotated on a schedule, published as a JWKS; also resolves keys for verification. */
export interface KeyManager extends KeyResolver {
  /** The key that signs new tokens now (the newest key whose activation time has passed). */
  activeKey(): Key;
  /** The public JWKS document: pending, active and retired keys until they expire. */
  jwks(): JWKS;
  /** `max-age` for the JWKS response, in seconds, derived from the rotation schedule. */
  jwksMaxAgeSeconds(): number;
  /** All keys with their state, newest first. */
  list(): SigningKeyInfo[];
  /**
   * Creates a new key. It is published at once and starts signing after the pre-publication period, so verifiers
   * that cache the JWKS never meet an unknown `kid`; `immediate` skips the wait (key compromise).
   */
  rotate(options?: { immediate?: boolean }): Promise<SigningKeyInfo>;
  /**
   * Takes a published key that does not sign now out of the JWKS at once, for good (key compromise). A key whose
   * retirement it was to activate keeps signing until the next one does. Every instance is told on commit.
   */
  withdraw(kid: string): Promise<KeyWithdrawal>;
  /**
   * An immediate rotation that withdraws every key published before it in the same step: the new key is then the
   * only one signing and verifying (a compromised ring replaced).
   */
  rotateAndWithdraw(): Promise<{ key: SigningKeyInfo; withdrawn: WithdrawnKeyInfo[] }>;
  /** Scheduled work: create the next key when due, drop keys whose tokens have all expired. */
  tick(): Promise<void>;
  /** Re-reads the key ring from the store (another instance changed it). */
  refresh(): Promise<void>;
  /**
   * A token names a kid this instance does not know: re-reads the ring (shared by concurrent callers, at most once a
   * second) and resolves whether it changed, so the caller may verify again before refusing.
   */
  refreshForUnknownKid(): Promise<boolean>;
  /** Stops the schedule. */
  close(): void;
}

/**
 * The settings the key manager reads (a `Config` fits). The MFA and exchanged-token lifetimes count towards how long
 * a retired key stays published when given: those tokens are signed with the ring's keys too.
 */
export type KeyManagerConfig = Pick<
  Config,
  | 'kek'
  | 'signingAlg'
  | 'accessTokenTtlMs'
  | 'clockToleranceMs'
  | 'keyRotationIntervalMs'
  | 'keyPrepublishMs'
  | 'jwksMaxAgeMs'
> &
  Partial<Pick<Config, 'mfaTokenTtlMs' | 'exchangedTokenTtlMs'>>;

/** The logging the key manager does (a pino / Fastify logger fits). Key material is never passed. */
export interface KeyManagerLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}
