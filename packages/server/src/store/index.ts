/** The storage layer's public surface. */
export { openStore } from './open.js';
export type { OpenStoreOptions } from './open.js';
export { Store } from './store.js';
export { StoreError, STORE_ERROR_CODES } from './errors.js';
export type { StoreErrorCode } from './errors.js';
export { parseDatabaseUrl } from './database-url.js';
export type { DatabaseTarget } from './database-url.js';
export type { StoreLogger } from './logger.js';
export type { PostgresOptions } from './postgres.js';
export type { DialectName } from './schema.js';
export type { JsonObject } from './json.js';
export type { User, NewUser, UserStatus } from './users.js';
export type { Session, NewSession, SessionMode, SessionDelivery } from './sessions.js';
export type { RefreshToken, NewRefreshToken, RefreshTokenSuccessor, RotateResult } from './refresh-tokens.js';
export type { Revocation, NewRevocation, RevocationKind, RevocationPage } from './revocations.js';
export type { SigningKeyRecord, NewSigningKey, SigningKeyPatch } from './keys.js';
export type { SecurityEvent, NewSecurityEvent, SecurityEventQuery } from './events.js';
export type { OneTimeToken, NewOneTimeToken } from './one-time-tokens.js';
