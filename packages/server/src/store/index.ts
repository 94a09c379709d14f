/** The storage layer's public surface. */
export { openStore } from './open.js';
export type { OpenStoreOptions } from './open.js';
export { Store } from './store.js';
export type { StoreChanges } from './store.js';
export type { ChangeHandlers, ChangeListener } from './change-listener.js';
export type { ClusterStateName } from './cluster.js';
export { StoreError, STORE_ERROR_CODES } from './errors.js';
export type { StoreErrorCode } from './errors.js';
export { parseDatabaseUrl } from './database-url.js';
export type { DatabaseTarget } from './database-url.js';
export type { StoreLogger } from './logger.js';
export type { PostgresOptions } from './postgres.js';
export type { DialectName } from './schema.js';
export type { JsonObject } from './json.js';
export type { User, NewUser, UserChange, UserQuery, UserStatus } from './users.js';
export type { OutboxMessage, NewOutboxMessage, OutboxQuery, OutboxStatus } from './outbox.js';
export { outboxAddress } from './outbox.js';
export type { Invitation, NewInvitation } from './invitations.js';
export type { Session, NewSession, SessionMode, SessionDelivery } from './sessions.js';
export type { EndedSessionsPruned } from './session-pruning.js';
export type { AuthState, RefreshState } from './joined.js';
export type {
  RefreshToken,
  NewRefreshToken,
  RefreshTokenSuccessor,
  RotateOptions,
  RotateResult,
} from './refresh-tokens.js';
export type { Revocation, NewRevocation, RevocationKind, RevocationPage } from './revocations.js';
export {
  feedCursorTag,
  FEED_CURSOR_CLOCK_TOLERANCE_MS,
  FEED_CURSOR_TAG_LENGTH,
  type FeedCursor,
} from './feed-cursor.js';
export type { SigningKeyRecord, NewSigningKey, SigningKeyPatch } from './keys.js';
export type { SecurityEvent, NewSecurityEvent, SecurityEventQuery } from './events.js';
export type { OneTimeToken, NewOneTimeToken } from './one-time-tokens.js';
export type { TokenRenewal, NewTokenRenewal } from './token-renewals.js';
export type {
  OAuthClient,
  NewOAuthClient,
  OAuthClientPatch,
  ClientAuthMethod,
  ClientDPoPPolicy,
  ClientIntrospectionPolicy,
} from './clients.js';
export type { MfaStore } from './mfa-store.js';
export type { MfaFactor, MfaFactorKind, NewMfaFactor } from './mfa-factors.js';
export type { MfaChallenge, MfaChallengeKind, NewMfaChallenge } from './mfa-challenges.js';
export type { SessionSighting } from './sightings.js';
export type { LockSchedule, LoginAttemptCount, LoginReservation, LoginThrottle } from './login-throttles.js';
export { lockMs, lockWaitMs } from './login-throttles.js';
export type { SignInState, UserForSession } from './sign-in-read.js';
export { MAX_DEVICE_KEYS } from './sign-in-read.js';
export { InvalidEmailError, displayEmail, emailKey, emailKeyOf, type EmailProblem } from './email.js';
