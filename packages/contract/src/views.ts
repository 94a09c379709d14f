/**
 * What the server's JSON API shows of its records: snake_case members, times as ISO-8601 strings, never a hash,
 * secret or key material. The server builds these (`http/views.ts` and the admin routes); `@jot/client` and the
 * web UI read them.
 */
import type { AccessTokenClaims } from './claims.js';

/** A user (`/api/whoami`, `/api/profile`, `/api/admin/users`, …). */
export interface UserView {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  status: 'active' | 'disabled';
  email_verified: boolean;
  created_at: string;
}

/** A session of the signed-in user (`GET /api/sessions`). */
export interface SessionView {
  id: string;
  /** The session the request was made with. */
  current: boolean;
  created_at: string;
  last_used_at: string;
  /** When it ends unless used: the earlier of its idle and absolute limits. */
  expires_at: string;
  /** The last password (or second-factor) authentication. */
  auth_time: string;
  ip: string | null;
  user_agent: string | null;
}

/** `GET /api/whoami`: the verified claims of the request's token, its user and (cookie mode) the CSRF token. */
export interface WhoAmIResponse {
  claims: AccessTokenClaims;
  user: UserView;
  csrf_token?: string;
}

/** A signing key (`GET /api/admin/keys`, `POST /api/admin/keys/rotate`). */
export interface SigningKeyView {
  kid: string;
  alg: string;
  state: 'pending' | 'active' | 'retired';
  created_at: string;
  activates_at: string;
  retired_at: string | null;
  expires_at: string | null;
}

/**
 * `POST /api/admin/keys/rotate`: the new key; with `withdraw: true` also the kids taken out of the JWKS in the same
 * step (every key published before).
 */
export interface RotatedKeyView extends SigningKeyView {
  withdrawn?: string[];
}

/** `POST /api/admin/keys/:kid/withdraw`: the key taken out of the JWKS (its row is gone: it never comes back). */
export interface WithdrawnKeyView {
  kid: string;
  alg: string;
  withdrawn_at: string;
}

/** How an OAuth client authenticates at the token endpoint (RFC 7591 §2 `token_endpoint_auth_method`). */
export type ClientAuthMethod =
  'private_key_jwt' | 'client_secret_jwt' | 'client_secret_basic' | 'client_secret_post' | 'none';

/** Whether a client's token requests must carry a DPoP proof (RFC 9449 §5.2 `dpop_bound_access_tokens`). */
export type ClientDPoPPolicy = 'optional' | 'required';

/**
 * Which access tokens a client may introspect at `/oauth/introspect` (RFC 7662 §4): `own` — those issued to it
 * (`client_id`) or naming it in `aud`; `any` — every one (a resource server). Others answer `{"active": false}`.
 */
export type ClientIntrospectionPolicy = 'own' | 'any';

/** A registered OAuth client (`/api/admin/clients`); never its secret, except once in `client_secret`. */
export interface ClientView {
  client_id: string;
  name: string;
  token_endpoint_auth_method: ClientAuthMethod;
  jwks?: Record<string, unknown>;
  jwks_uri?: string;
  grant_types: string[];
  scopes: string[];
  audiences: string[];
  /** Seconds; null: the server's default. */
  access_token_ttl: number | null;
  first_party: boolean;
  /** `required`: the token endpoint refuses this client's requests without a DPoP proof (RFC 9449). */
  dpop: ClientDPoPPolicy;
  /** RFC 9449 §5.2 client metadata: the same as `dpop: 'required'`. */
  dpop_bound_access_tokens: boolean;
  /** Which access tokens it may introspect: `own` (issued to it or naming it in `aud`) or `any`. */
  introspection: ClientIntrospectionPolicy;
  created_at: string;
  updated_at: string;
  secret_rotated_at: string | null;
}

/** What an admin sends to register a client (`POST /api/admin/clients`). */
export interface ClientRegistration {
  client_id?: string;
  name: string;
  token_endpoint_auth_method: ClientAuthMethod;
  jwks?: unknown;
  jwks_uri?: string;
  grant_types?: readonly string[];
  scopes?: readonly string[];
  audiences?: readonly string[];
  /** Seconds. */
  access_token_ttl?: number;
  /** `required`: token requests without a DPoP proof are refused (RFC 9449). @default 'optional' */
  dpop?: ClientDPoPPolicy;
  /** RFC 9449 §5.2 client metadata: `true` is `dpop: 'required'` (must agree with `dpop` when both are sent). */
  dpop_bound_access_tokens?: boolean;
  /** Which access tokens it may introspect (`any`: a resource server). @default 'own' */
  introspection?: ClientIntrospectionPolicy;
}

/** `PATCH /api/admin/clients/:id`: what an admin may change on a registered client. */
export interface ClientUpdate {
  dpop?: ClientDPoPPolicy;
  /** RFC 9449 §5.2 client metadata: `true` is `dpop: 'required'`, `false` is `'optional'`. */
  dpop_bound_access_tokens?: boolean;
  /** Which access tokens it may introspect: `own` or `any`. */
  introspection?: ClientIntrospectionPolicy;
}

/** The answer to a registration or a secret rotation: the client, and its secret once for secret methods. */
export interface ClientWithSecret {
  client: ClientView;
  client_secret?: string;
}

/**
 * The kinds of security event the server records, the `type` of a {@link SecurityEventView} (docs/security.md lists
 * when each is written).
 */
export const SECURITY_EVENT_TYPES = [
  'login_succeeded',
  'login_failed',
  'account_locked',
  'registered',
  'user_created',
  'admin_created',
  'logout',
  'logout_all',
  'session_revoked',
  'refresh_token_reuse',
  'renewal_reuse',
  'csrf_rejected',
  'rate_limited',
  'password_changed',
  'roles_changed',
  'user_disabled',
  'user_enabled',
  'key_rotated',
  'key_withdrawn',
  'password_reset_requested',
  'password_reset',
  'email_verified',
  'email_change_requested',
  'email_changed',
  'invitation_created',
  'invitation_revoked',
  'invitation_accepted',
  'account_deleted',
  'client_registered',
  'client_updated',
  'client_secret_rotated',
  'client_removed',
  'mfa_enrolled',
  'mfa_removed',
  'mfa_reset',
  'mfa_failed',
  'mfa_locked',
  'mfa_step_up',
  'recovery_codes_regenerated',
  'recovery_code_used',
  'new_device_sign_in',
  'session_network_changed',
  'session_agent_changed',
  'refresh_anomaly',
  'failure_burst',
] as const;

/** One kind of security event. */
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/** A security event (`GET /api/admin/events`). */
export interface SecurityEventView {
  id: number;
  /** One of {@link SECURITY_EVENT_TYPES}; a row written before a type was retired keeps its old name. */
  type: SecurityEventType | (string & {});
  user_id: string | null;
  user_email: string | null;
  session_id: string | null;
  ip: string | null;
  detail: unknown;
  created_at: string;
}

/** An open invitation (`/api/admin/invitations`). */
export interface InvitationView {
  id: string;
  email: string;
  roles: string[];
  created_at: string;
  expires_at: string;
}

/** A second factor (`GET /api/mfa`). */
export interface MfaFactorView {
  id: string;
  kind: 'totp' | 'webauthn';
  name: string;
  created_at: string;
  last_used_at: string | null;
}

/** `GET /api/mfa`. */
export interface MfaStatusView {
  enabled: boolean;
  /** Whether policy requires this user to have a second factor. */
  required: boolean;
  factors: MfaFactorView[];
  recovery_codes_left: number;
  /**
   * Whether the address must be verified before a factor can be added (email verification on, address unverified):
   * until then enrolment answers 403 `ERR_EMAIL_NOT_VERIFIED`.
   */
  needs_verified_email: boolean;
}

/** `POST /api/mfa/totp`: an authenticator app's secret (as text and as an `otpauth://` URI), to confirm with a code. */
export interface TotpEnrolmentView {
  factor_id: string;
  secret: string;
  otpauth_uri: string;
}

/**
 * Fresh recovery codes, shown once: `POST /api/mfa/recovery-codes` always; confirming a first factor
 * (`POST /api/mfa/totp/confirm`, `POST /api/passkeys/register`) adds them to its answer.
 */
export interface RecoveryCodesView {
  recovery_codes: string[];
}

/** `GET /api/admin/mfa`: per user with a second factor, how many of each kind. */
export interface MfaUserSummaryView {
  user_id: string;
  totp: number;
  webauthn: number;
}

/** `DELETE /api/admin/users/:id/sessions`: how many live sessions of the user ended (0 when none was left). */
export interface SessionsRevokedView {
  revoked: number;
}

/** `GET /api/admin/users`: one page of a search, oldest first; `total` counts every match. */
export interface UserPageView {
  users: UserView[];
  total: number;
}

/** `GET /api/sessions`: the signed-in user's live sessions, most recently used first. */
export interface SessionListView {
  sessions: SessionView[];
}

/** `GET /api/admin/keys`: the signing keys, newest first. */
export interface SigningKeyListView {
  keys: SigningKeyView[];
}

/** `GET /api/admin/clients`: the registered OAuth clients. */
export interface ClientListView {
  clients: ClientView[];
}

/** `GET /api/admin/events`: security events, newest first. */
export interface SecurityEventListView {
  events: SecurityEventView[];
}

/** `GET /api/admin/invitations`: the open invitations, newest first. */
export interface InvitationListView {
  invitations: InvitationView[];
}

/** `GET /api/admin/mfa`: the users with a second factor. */
export interface MfaUserSummaryListView {
  users: MfaUserSummaryView[];
}

/** A request accepted for later (`202`, e.g. `POST /api/email/change`): what happens next, for a person. */
export interface AcceptedView {
  message: string;
}
