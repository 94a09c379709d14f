/**
 * The database schema as Kysely sees it: one interface per table, snake_case columns.
 * Conventions on both dialects: times are integer epoch milliseconds (BIGINT), JSON is TEXT,
 * booleans would be 0/1 integers. Callers never see these rows; the store maps them to camelCase.
 */
import type { Generated } from 'kysely';

/** `users`: one account. */
export interface UsersTable {
  /** Random UUID. */
  id: string;
  /** The display form (trimmed, NFC); see email.ts. */
  email: string;
  /** The comparison form, unique (migration 0004). */
  email_key: string;
  /** Encoded password hash (e.g. argon2id PHC string); the store never sees a password. */
  password_hash: string;
  name: string | null;
  /** JSON array of role names. */
  roles: string;
  /** `'active'` or `'disabled'`. */
  status: string;
  /** Starts at 1; bumped whenever authorization changes so tokens carrying an older `ver` go stale. */
  token_version: number;
  /** Tokens issued before this epoch ms are rejected; 0 = none. */
  tokens_valid_after: number;
  /**
   * Device credentials issued before this epoch ms are dead, and known devices claimed before it count as new;
   * null = `tokens_valid_after` (migration 0015). Only the owner's and admins' clean-ups move it, not a `failure_burst`.
   */
  devices_valid_after: number | null;
  /** Bumped by password change, logout-everywhere and disable; sessions must match it (migration 0004). */
  credential_generation: number;
  /** Who created the account (migration 0004). */
  created_via: string;
  created_at: number;
  updated_at: number;
  /** When the address was last proven by a link sent to it; null = not verified (migration 0006). */
  email_verified_at: number | null;
}

/** `sessions`: one refresh-token family; its id is the JWT `sid`. */
export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: number;
  last_used_at: number;
  /** The session ends at this time whatever its activity. */
  absolute_expires_at: number;
  /** Idle timeout: the session ends when unused for longer; null = none. */
  idle_timeout_ms: number | null;
  revoked_at: number | null;
  revoked_reason: string | null;
  /** Epoch ms of the last password authentication (the OIDC `auth_time`, in ms). */
  auth_time: number;
  user_agent: string | null;
  ip: string | null;
  /** SHA-256 (hex) of the CSRF token bound to the session in browser cookie mode. */
  csrf_hash: string | null;
  /** 'bearer' | 'cookie' | 'memory' (migration 0002). */
  delivery: string;
  /** How tokens are issued for this session, e.g. `'refresh'` or `'single'`. */
  mode: string;
  /** The OAuth client the session's tokens are issued to (migration 0005); `'jot'` is the first-party client. */
  client_id: Generated<string>;
  /** JSON array of RFC 8176 `amr` values of the session's last authentication (migration 0007). */
  amr: Generated<string>;
  /** The `acr` of the session's last authentication: `'aal1'` or `'aal2'` (migration 0007). */
  acr: Generated<string>;
  /** RFC 7638 thumbprint of the DPoP key the session is bound to; null = not bound (migration 0008). */
  dpop_jkt: string | null;
  /** The user's credential generation read before the password check that created it (migration 0004). */
  credential_generation: number;
}

/** `refresh_tokens`: one opaque refresh token, known only by its hash. */
export interface RefreshTokensTable {
  /** Hex SHA-256 of the opaque token; the caller hashes, the store never sees plaintext. */
  token_hash: string;
  session_id: string;
  /** Position in the family, starting at the caller's first generation. */
  generation: number;
  created_at: number;
  /** Set once, when the token is exchanged for its successor. */
  rotated_at: number | null;
  successor_hash: string | null;
  /** The successor token encrypted by the caller, so a use within the grace window gets the same one. */
  successor_ciphertext: string | null;
  /**
   * The session marker (hex) a version-2 token carries (services/refresh-token-tags.ts); null for an older token.
   * Only marked rows are pruned while their session lives (migration 0018).
   */
  marker: Generated<string | null>;
}

/** `revocations`: the feed resource servers poll; `id` is the cursor. */
export interface RevocationsTable {
  /** Autoincrement, never reused (SQLite AUTOINCREMENT, Postgres identity). */
  id: Generated<number>;
  /** `'jti'`, `'sid'` or `'user'`. */
  kind: string;
  /** The jti, session id or user id the entry is about. */
  subject: string;
  /** JSON object, e.g. `{"valid_after": ms}`, `{"ver": n}`, `{"status": "disabled"}`. */
  data: string;
  created_at: number;
  /** After this the tokens covered have expired too, and the entry may be pruned. */
  expires_at: number;
}

/** `signing_keys`: the issuer's keys, active, retired and pre-published. */
export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** JSON public JWK, as published in the JWKS. */
  public_jwk: string;
  /** The private key encrypted by the caller under the KEK. */
  private_key_ciphertext: string;
  created_at: number;
  /** From when it may sign (it is published before that, for caches to pick it up). */
  activates_at: number;
  /** When it stopped signing; null while current. */
  retired_at: number | null;
  /** When it leaves the JWKS (all tokens it signed have expired); null = not scheduled. */
  expires_at: number | null;
}

/** `security_events`: an audit trail of things worth a human's attention. */
export interface SecurityEventsTable {
  id: Generated<number>;
  /** e.g. `'refresh_token_reuse'`, `'login_failed'`, `'user_disabled'`. */
  type: string;
  user_id: string | null;
  session_id: string | null;
  ip: string | null;
  /** JSON object with event-specific detail (never secrets). */
  detail: string;
  created_at: number;
}

/** `one_time_tokens`: single-use tokens (password reset, email verification), known by hash. */
export interface OneTimeTokensTable {
  token_hash: string;
  /** What the token may be used for, e.g. `'password_reset'`. */
  purpose: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

/**
 * `token_renewals`: single-token renewals (migration 0009), one row per renewed access token, kept until that token
 * expires.
 */
export interface TokenRenewalsTable {
  /** Hex SHA-256 of `renew:<jti>` of the renewed token. */
  token_hash: string;
  session_id: string;
  /** The same hash of the successor's `jti` (whether the successor was renewed in turn). */
  successor_hash: string;
  /** The successor access token, sealed under a key derived from the renewed token. */
  successor_ciphertext: string;
  renewed_at: number;
  /** When the renewed token expires (plus clock tolerance); the row may be pruned after. */
  expires_at: number;
}

/** `mail_outbox`: every message, queued durably before anything is sent (migration 0006). */
export interface MailOutboxTable {
  id: string;
  /** One message per key: a second enqueue with the same key is a no-op. */
  idempotency_key: string;
  /** The template that rendered it, e.g. `'password-reset'`. */
  template: string;
  to_address: string;
  /** The rendered message, encrypted under a key derived from the KEK; emptied once sent. */
  payload: string;
  /** `'pending'`, `'sent'` or `'failed'` (gave up after the last attempt). */
  status: string;
  attempts: number;
  next_attempt_at: number;
  /** The sender instance holding the row while it delivers; the lease ends at `lease_until`. */
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
  /** The account the message is about (deleted with it); null for mail to no account (migration 0012). */
  user_id: string | null;
}

/** `invitations`: an admin's invitation of an address, with the roles the account will get (migration 0006). */
export interface InvitationsTable {
  id: string;
  /** Normalised like users.email. */
  email: string;
  /** JSON array of role names. */
  roles: string;
  invited_by: string | null;
  created_at: number;
  expires_at: number;
  accepted_at: number | null;
  revoked_at: number | null;
}

/** `oauth_clients`: registered OAuth clients (migration 0005). */
export interface OAuthClientsTable {
  client_id: string;
  name: string;
  /** `private_key_jwt`, `client_secret_jwt`, `client_secret_basic`, `client_secret_post` or `none`. */
  auth_method: string;
  /** Hex SHA-256 of the client secret (secret methods only). */
  secret_hash: string | null;
  /** The secret sealed under the KEK: only `client_secret_jwt` needs it back, as its HMAC key. */
  sealed_secret: string | null;
  /** JSON public JWKS (`private_key_jwt`), or null when `jwks_uri` is used. */
  jwks: string | null;
  jwks_uri: string | null;
  /** JSON arrays. */
  grant_types: string;
  scopes: string;
  audiences: string;
  /** Lifetime of access tokens issued to the client; null = the server's default. */
  token_ttl_ms: number | null;
  /** 1 for the built-in first-party client (it cannot be removed). */
  first_party: number;
  /** `optional` or `required`: whether token requests must carry a DPoP proof (migration 0010). */
  dpop_policy: Generated<string>;
  /** `own` or `any`: which access tokens the client may introspect (migration 0014; the column defaults to `own`). */
  introspection: Generated<string>;
  created_at: number;
  updated_at: number;
  secret_rotated_at: number | null;
}

/** `assertion_jtis`: RFC 7523 client-assertion ids already used, until the assertion expires (migration 0005). */
export interface AssertionJtisTable {
  /** Hex SHA-256 of `client_id` and `jti`: the primary key makes the first use win on every instance. */
  jti_hash: string;
  client_id: string;
  expires_at: number;
}

/** `mfa_factors`: a confirmed or pending second factor (a TOTP secret or a WebAuthn credential). */
export interface MfaFactorsTable {
  id: string;
  user_id: string;
  /** `'totp'` or `'webauthn'`. */
  kind: string;
  /** The user's label ("Phone", "YubiKey"). */
  name: string;
  /** TOTP: the secret sealed under the KEK (AES-256-GCM, the factor id as associated data). */
  secret_ciphertext: string | null;
  /** WebAuthn: the credential id (base64url); unique across users. */
  credential_id: string | null;
  /** WebAuthn: the COSE public key (base64url). */
  public_key: string | null;
  /** WebAuthn: the signature counter last seen. */
  counter: Generated<number>;
  /** WebAuthn: JSON array of transports. */
  transports: Generated<string>;
  created_at: number;
  /** Null while a TOTP enrolment waits for its first code. */
  confirmed_at: number | null;
  last_used_at: number | null;
}

/** `mfa_used_steps`: TOTP time steps already accepted for a factor; the primary key refuses a replay. */
export interface MfaUsedStepsTable {
  factor_id: string;
  step: number;
  used_at: number;
}

/** `mfa_recovery_codes`: single-use recovery codes, known by keyed hash. */
export interface MfaRecoveryCodesTable {
  code_hash: string;
  user_id: string;
  created_at: number;
  used_at: number | null;
}

/** `mfa_challenges`: MFA tokens of the two-step sign-in and WebAuthn challenges, single-use, by hash. */
export interface MfaChallengesTable {
  id_hash: string;
  /** `'mfa_token'`, `'webauthn_register'`, `'webauthn_login'`. */
  kind: string;
  user_id: string | null;
  /** JSON object (delivery mode, …). */
  data: Generated<string>;
  /** Verification attempts made with it so far. */
  attempts: Generated<number>;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

/** `mfa_failures`: failed second-factor attempts per account in the current window. */
export interface MfaFailuresTable {
  user_id: string;
  window_start: number;
  count: number;
}

/**
 * `known_devices`: devices a user has signed in from, for the new-device notice (SHA-256 of user-agent family +
 * network: services/theft-signals.ts). The sign-in lock's device credentials are signed, not stored here
 * (services/login-devices.ts).
 */
export interface KnownDevicesTable {
  user_id: string;
  device_hash: string;
  /** When it was claimed: first seen, or seen again after the user's device cut-off (`users.devices_valid_after`). */
  first_seen: number;
}

/** `session_sightings`: where a session was last used from (IP network and user agent). */
export interface SessionSightingsTable {
  session_id: string;
  network: string;
  user_agent: string;
  seen_at: number;
}

/** `cluster_state`: named integers every instance shares (lock rows, the Redis publisher's cursor). */
export interface ClusterStateTable {
  name: string;
  value: number;
}

/** `dpop_proofs`: DPoP proof `jti`s seen (migration 0008), keyed by `<jkt>:<jti>`. */
export interface DPoPProofsTable {
  key: string;
  /** The proof is stale after this; the row may be pruned. */
  expires_at: number;
}

/**
 * `login_throttles`: consecutive failed sign-ins per account key, across addresses (migration 0004), and per
 * device credential.
 */
export interface LoginThrottlesTable {
  /**
   * SHA-256 of the email's comparison key (unknown accounts are throttled the same way), or a device credential's
   * key (`device:` + SHA-256 of its token; see services/login-devices.ts).
   */
  account_key: string;
  failures: number;
  /** Sign-ins are refused until this epoch ms. */
  locked_until: number;
  updated_at: number;
  /**
   * Which run of the count the row holds: drawn anew whenever the row is (re)started (migration 0019; `''` for rows
   * started before it). A success forgets failures only in the generation it was counted in.
   */
  generation: Generated<string>;
  /**
   * Places reserved in this run: 1 at its (re)start, one more for each attempt counted; never lowered, so each
   * attempt's place is its own (migration 0019; `0` for rows started before it, whose places go on from `failures`).
   * A success forgets the places up to its own. The lock schedule goes by `failures`, not by this.
   */
  reserved: Generated<number>;
  /**
   * The end of the lock that stands whatever the attempts still being checked turn out to be (migration 0020): set
   * (to the lock before it) by a reservation that raises `locked_until`, raised by each failure's check to its own
   * lock, null once a failure's check reaches `locked_until`. Null: the whole lock is settled (and rows from before).
   */
  settled_until: number | null;
}

/** All tables, for `Kysely<Schema>`. */
export interface Schema {
  login_throttles: LoginThrottlesTable;
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  revocations: RevocationsTable;
  signing_keys: SigningKeysTable;
  security_events: SecurityEventsTable;
  one_time_tokens: OneTimeTokensTable;
  token_renewals: TokenRenewalsTable;
  mail_outbox: MailOutboxTable;
  invitations: InvitationsTable;
  oauth_clients: OAuthClientsTable;
  assertion_jtis: AssertionJtisTable;
  mfa_factors: MfaFactorsTable;
  mfa_used_steps: MfaUsedStepsTable;
  mfa_recovery_codes: MfaRecoveryCodesTable;
  mfa_challenges: MfaChallengesTable;
  mfa_failures: MfaFailuresTable;
  known_devices: KnownDevicesTable;
  session_sightings: SessionSightingsTable;
  cluster_state: ClusterStateTable;
  dpop_proofs: DPoPProofsTable;
}

/** Which database is underneath. */
export type DialectName = 'sqlite' | 'postgres';
