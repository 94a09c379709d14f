/**
 * The single source of truth for every setting: its config-file key, its default and what it means.
 * docs/config.md is written from this file (and a test checks it lists every environment variable).
 * Each key can be set in `jot.config.json` under that key, or by the environment variable in `ENV_VARS`.
 * Durations take `parseDuration` strings ("15m", "30d") or seconds; `Config` holds them in milliseconds.
 */

/** Defaults, by config-file key. `undefined` means "computed", as its doc says. */
export const defaults = {
  /** Runtime mode: `development`, `production` or `test`. Production refuses insecure defaults. @default 'development' */
  nodeEnv: 'development',
  /** TCP port to listen on (0 = any free port). @default 3000 */
  port: 3000,
  /** Interface to listen on. @default '127.0.0.1' in development and test, '0.0.0.0' in production */
  host: undefined,
  /** Directory for the SQLite database and the development KEK; created if missing. @default './data' */
  dataDir: './data',
  /** `postgres://…` selects Postgres; otherwise a SQLite file path, or `:memory:`. @default '<dataDir>/jot.db' */
  databaseUrl: undefined,
  /**
   * PostgreSQL: send a refresh's and a request's hot statements as named prepared statements, planned once per
   * connection. Set `false` behind PgBouncer older than 1.21 in transaction mode. @default true
   */
  databaseNamedStatements: true,
  /** The `iss` of every token: an absolute http(s) URL. Required in production. @default 'http://localhost:<port>' */
  issuer: undefined,
  /** The `aud` of access tokens; a comma list allowed. @default the issuer */
  audience: undefined,
  /**
   * Key-encryption key for private signing keys at rest: 32 bytes as base64url or hex. Required in production;
   * in development a key is generated once into `<dataDir>/dev-kek` (mode 0600). @default generated (dev only)
   */
  kek: undefined,
  /** Algorithm of new signing keys. @default 'RS256' */
  signingAlg: 'RS256',
  /** Access-token lifetime. @default '15m' */
  accessTokenTtl: '15m',
  /** A session ends when its refresh token is unused for this long. @default '30d' */
  refreshIdleTimeout: '30d',
  /** A session ends this long after login, however active. @default '90d' */
  sessionMaxLifetime: '90d',
  /**
   * An ended session (revoked, past its lifetime, or idle past its timeout) is deleted with its refresh tokens this
   * long after it ended. At least 2 days: longer than any access token can outlive its session. @default '30d'
   */
  sessionRetention: '30d',
  /** A rotated refresh token presented again within this window gets the same successor, not a reuse alarm. @default '10s' */
  refreshGraceWindow: '10s',
  /** `refresh`: short access token + rotating refresh token; `single`: one access token per login. @default 'refresh' */
  tokenMode: 'refresh',
  /** Clock skew tolerated when checking `exp`/`nbf`/`iat`. @default '5s' */
  clockTolerance: '5s',
  /** How often a new signing key is created. @default '30d' */
  keyRotationInterval: '30d',
  /** How long a new key is published before it signs; must be at least `jwksMaxAge`. @default '1h' */
  keyPrepublish: '1h',
  /** `Cache-Control: max-age` of the JWKS. @default '10m' */
  jwksMaxAge: '10m',
  /**
   * Sensitive admin actions (roles, disable/enable, key rotation) need a password authentication at most this old
   * (RFC 9470 step-up; `POST /api/reauth` refreshes it). @default '15m'
   */
  stepUpMaxAge: '15m',
  /**
   * Scopes user tokens carry, by role: `<role>=<scope> <scope>` pairs, comma-separated; role `*` is every user. A
   * token gets the scopes of all its user's roles, narrowed to the client's registered scopes (if it lists any);
   * `none` issues no `scope`. A token a service gets by token exchange carries only the subject token's scopes the
   * service is registered for (none if it lists none), and no roles.
   * @default '*=profile,admin=admin'
   */
  roleScopes: '*=profile,admin=admin',
  /** Longest lifetime (`exp` − `iat`) of an RFC 7523 client assertion the token endpoint accepts. @default '5m' */
  clientAssertionMaxLifetime: '5m',
  /** Lifetime of tokens issued by token exchange (RFC 8693); never beyond the subject token's own `exp`. @default '5m' */
  exchangedTokenTtl: '5m',
  /**
   * `redis://…`: share rate limits across instances and mirror revocations into Redis for resource servers that
   * check them there (`@jot/verify` strict mode). @default none
   */
  redisUrl: undefined,
  /**
   * Longest wait for one Redis command (milliseconds with `ms`, e.g. `150ms`). Redis only accelerates: a command
   * that fails or times out falls back (per-instance rate limits, the database) instead of delaying the request.
   * @default '150ms'
   */
  redisTimeout: '150ms',
  /**
   * The namespace of every Redis key and channel the server uses (`<namespace>:rev:…`, `<namespace>:rl:…`,
   * `<namespace>:revocations`): 1–64 letters, digits and `_ . : -`. Deployments that share one Redis need one each;
   * every instance of a deployment and its strict verifiers (`revocation.namespace`) use the same.
   * @default 'jot'
   */
  redisNamespace: 'jot',
  /**
   * How often an instance re-reads the revocation feed and the key ring when it hears nothing pushed from the others
   * (PostgreSQL LISTEN/NOTIFY is down, or SQLite): the bound on how late a change made on another instance is seen.
   * @default '2s'
   */
  clusterPollInterval: '2s',
  /** Shared secret (at least 32 characters) resource servers present to read the revocation feed. @default none */
  revocationSecret: undefined,
  /**
   * Email of the bootstrap admin, created at any start when no account has this address. An existing account is
   * made admin only when `adminPassword` is its password (else the server refuses to start); set with
   * `adminPassword`.
   * @default none
   */
  adminEmail: undefined,
  /** Password of that bootstrap admin (at least 8 characters); set with `adminEmail`. @default none */
  adminPassword: undefined,
  /** Log level: fatal, error, warn, info, debug, trace or silent. @default 'info' */
  logLevel: 'info',
  /** Proxies trusted for X-Forwarded-*: true/false, a hop count, or a comma list of addresses/CIDRs. @default false */
  trustProxy: false,
  /** Largest request body accepted: bytes, or with a unit (b, kb, mb). @default '16kb' */
  bodyLimit: '16kb',
  /**
   * A request's headers and body must all arrive within this; a slower client gets 408 and is disconnected.
   * @default '30s'
   */
  requestTimeout: '30s',
  /** A request's headers must arrive within this (at most `requestTimeout`). @default '10s' */
  headersTimeout: '10s',
  /**
   * An idle keep-alive connection is closed after this. Behind a load balancer keep it longer than the balancer's
   * idle timeout (60 s for nginx and AWS ALB), so the balancer never reuses a connection Jot is closing. @default '65s'
   */
  keepAliveTimeout: '65s',
  /**
   * On SIGTERM/SIGINT: `/readyz` answers 503, revocation streams are told to reconnect elsewhere, responses close
   * their connections; in-flight requests get at most this long to finish before the rest are cut. @default '5s'
   */
  drainTimeout: '5s',
  /**
   * On SIGTERM/SIGINT, how long the server goes on accepting new connections after `/readyz` turns 503 (answering
   * them with `Connection: close`) before it stops listening and waits for the requests in flight: the time a load
   * balancer takes to stop sending it traffic. A second signal ends it early. `ms` allowed (`1500ms`).
   * @default '5s' in production, '0s' in development and test
   */
  drainDelay: undefined,
  /**
   * Requests per client address and route on every route that checks a credential or sends mail, and the same
   * budget per verified user on the password-, code- and email-change routes; and failed client authentications
   * per address (counted per client id) at the introspection, revocation and feed endpoints: `<max>/<window>`, e.g.
   * `10/min`, `100/15m`. @default '10/min'
   */
  rateLimitAuth: '10/min',
  /** Browser origins allowed by CORS, comma list of `scheme://host[:port]`. @default none */
  corsOrigins: '',
  /** How browsers get tokens: `bearer` (response body), `cookie` (HttpOnly cookies) or `memory`. @default 'bearer' */
  tokenDelivery: 'bearer',
  /** `Secure` cookie attribute: `auto` (set over https, and always when `NODE_ENV=production`), `true` or `false`. @default 'auto' */
  cookieSecure: 'auto',
  /**
   * DPoP (RFC 9449) at sign-in and refresh: `optional` binds a session to the key of the proof sent with the
   * sign-in (and then requires proofs from it); `required` refuses sign-in and refresh without a proof. @default 'optional'
   */
  dpop: 'optional',
  /** Demand a server nonce (`DPoP-Nonce`, RFC 9449 §8) in every DPoP proof the server checks. @default false */
  dpopNonce: false,
  /** How long after its `iat` a DPoP proof is accepted (its `jti` is remembered that long). @default '60s' */
  dpopProofMaxAge: '60s',
  /** Algorithms accepted for DPoP proofs, comma list (asymmetric only). @default 'ES256,ES384,ES512,EdDSA,PS256,RS256' */
  dpopAlgorithms: 'ES256,ES384,ES512,EdDSA,PS256,RS256',
  /**
   * The API's external URL as clients address it (`https://auth.example.com`, plus the path prefix a proxy strips),
   * which DPoP proofs must name in `htu`. @default from each request: its Host (and X-Forwarded-Proto/Host when
   * JOT_TRUST_PROXY trusts the proxy)
   */
  externalUrl: undefined,
  /**
   * Audiences whose access tokens are encrypted (nested JWT, RFC 7519 §11.2): a JSON object mapping each audience
   * to its JWK (`alg` `RSA-OAEP-256` or `ECDH-ES+A256KW`), or the path of a file holding it. Public for other
   * services; private for the server's own audiences (JOT_AUDIENCE), whose tokens it must read. @default none
   */
  encryptionKeys: undefined,
  /**
   * Sign-in throttle per account, across all addresses: `<free failures>/<first lock>`. After that many consecutive
   * failed sign-ins each further attempt locks the account's sign-in for the lock, doubling each time. A sign-in
   * with a device credential of the account is counted and locked per device instead, on the same schedule.
   * @default '5/30s'
   */
  loginLockout: '5/30s',
  /** The longest sign-in lock of the exponential back-off. @default '15m' */
  loginLockoutMax: '15m',
  /**
   * How long a device credential stays valid: the HttpOnly cookie a successful sign-in gives a browser, with which
   * its later password sign-ins to that account are throttled per device (same `JOT_LOGIN_LOCKOUT`) instead of by
   * the account-wide lock others' failures set. A sign-in in its second half gives a new one; `0` turns device
   * credentials off (every sign-in under the account-wide lock). @default '90d'
   */
  loginDeviceTtl: '90d',
  /**
   * Single-token mode: renewals per session, and renewals that revoke the renewed token (early ones; each adds a
   * revocation-feed entry) per account: `<max>/<window>`. Bounds feed growth from renewals per account. @default '6/min'
   */
  rateLimitRenew: '6/min',
  /**
   * Calls one authenticated caller may make to `/oauth/introspect`, `/oauth/revoke` and `/api/introspect`, one
   * budget for the three: per OAuth client or per admin: `<max>/<window>`. The resource-server secret's holders
   * have their own (`rateLimitResourceServer`). Failed client authentications there are limited by
   * `JOT_RATE_LIMIT_AUTH`, per address. @default '1000/s'
   */
  rateLimitClient: '1000/s',
  /**
   * Calls per address by holders of `JOT_REVOCATION_SECRET` at `/api/introspect`, `/oauth/introspect` and the
   * revocation feed: `<max>/<window>`, or `off`. A ceiling against a leaked secret loading the database; a strict
   * verifier refused by it fails closed, so set it well above what your resource servers behind one address send
   * (one introspection per request they serve). @default 'off'
   */
  rateLimitResourceServer: 'off',
  /**
   * Bearer token (at least 32 characters) that `GET /metrics` requires. Without it, `/metrics` answers only outside
   * production. @default none
   */
  metricsToken: undefined,
  /** argon2id memory cost in KiB (OWASP minimum with t=2). @default 19456 */
  argon2MemoryKib: 19456,
  /** argon2id iterations. @default 2 */
  argon2TimeCost: 2,
  /** argon2id lanes. @default 1 */
  argon2Parallelism: 1,
  /**
   * Password hashes and verifications run at once; the rest wait in line. Set it to the CPUs a container may use
   * (CPU quotas are not visible to Node). @default every core but one, at least one
   */
  hashConcurrency: undefined,
  /** Public URL of the web UI, the base of every link in messages (an absolute http(s) URL). @default the issuer */
  publicUrl: undefined,
  /**
   * `smtp://user:pass@host:port` or `smtps://…`: deliver mail over SMTP. Without it messages are written to the log
   * and as `.eml` files under `<dataDir>/mail` (development). @default none
   */
  smtpUrl: undefined,
  /** The From header of every message. @default 'Jot <no-reply@<issuer host>>' */
  mailFrom: undefined,
  /** First retry delay of a message the mail server did not take; each further retry waits twice as long (up to 1 h). @default '30s' */
  mailRetryBase: '30s',
  /** A folder of `<template>.txt` / `<template>.html` files that replace the built-in message templates. @default none */
  mailTemplatesDir: undefined,
  /**
   * Email verification: `off` (no verification mail), `optional` (sent at registration, not required) or `required`
   * (unverified accounts cannot sign in). @default 'optional'
   */
  emailVerification: 'optional',
  /**
   * Who may create an account: `open` (anyone, `POST /api/register`), `invite` (admin invitations only) or `closed`
   * (only admins: the API, the web UI, `jot users add`). Outside production the first account registered becomes an
   * admin; in production never. @default 'closed' in production, 'open' in development and test
   */
  registration: undefined,
  /** Lifetime of a password-reset link. @default '15m' */
  passwordResetTtl: '15m',
  /** Lifetime of an email-verification link. @default '24h' */
  emailVerificationTtl: '24h',
  /** Lifetime of a link confirming a new email address. @default '1h' */
  emailChangeTtl: '1h',
  /** Lifetime of an invitation. @default '7d' */
  invitationTtl: '7d',
  /**
   * Messages a client may request for one address (password reset, new verification link) per window, on top of
   * `JOT_RATE_LIMIT_AUTH` per client address. @default '5/15m'
   */
  rateLimitMail: '5/15m',
  /** Who must sign in with a second factor: `none`, `admins` (admin actions need one) or `all`. @default 'none' */
  mfaRequired: 'none',
  /** Lifetime of the one-time MFA token between the password step and the second step. @default '5m' */
  mfaTokenTtl: '5m',
  /** Second-factor attempts per account: `<max>/<window>`, across all MFA tokens (each allows 5). @default '10/15m' */
  mfaAccountLimit: '10/15m',
  /** WebAuthn relying-party id: the domain passkeys are bound to. @default the issuer's host name */
  webauthnRpId: undefined,
  /** Relying-party name authenticators show when creating a passkey. @default 'Jot' */
  webauthnRpName: 'Jot',
  /** Origins (comma list) whose pages may register and use passkeys. @default the issuer's origin */
  webauthnOrigins: undefined,
  /** A session used from another IP network or browser within this long of its last use raises a theft signal. @default '10m' */
  theftWindow: '10m',
  /**
   * Response per theft signal, `signal=record|step_up|revoke` comma list (unlisted signals keep their default).
   * @default 'session_network_changed=record,session_agent_changed=step_up,refresh_anomaly=step_up,failure_burst=step_up'
   */
  theftResponses: '',
  /** Failed sign-ins or second-factor attempts on one account, `<max>/<window>`, that raise `failure_burst`. @default '10/10m' */
  failureBurst: '10/10m',
  /** Refresh-token rotations of one session within one access-token lifetime above which `refresh_anomaly` fires. @default 5 */
  refreshAnomalyLimit: 5,
  /**
   * Refresh-token rotations of one session within one access-token lifetime after which its further refreshes are
   * refused (429 `ERR_REFRESH_LIMITED`, `Retry-After`) until the oldest of them leaves the window; counted in the
   * database, so across instances. Must be above `JOT_REFRESH_ANOMALY_LIMIT` (left unset, it is raised to one above
   * it). A client refreshes about once per lifetime; retries and tabs add a few. @default 30
   */
  refreshSessionLimit: 30,
} as const;

/** A setting's config-file key. */
export type SettingKey = keyof typeof defaults;

/** A raw value as the config file or `overrides` may give it (validated by `loadConfig`). */
export type SettingValue = string | number | boolean | readonly string[] | undefined;

/** Raw settings: what `jot.config.json` and `loadConfig({ overrides })` contain. */
export type Settings = { [K in SettingKey]?: SettingValue };

/** The environment variable of each setting. */
export const ENV_VARS: { readonly [K in SettingKey]: string } = {
  nodeEnv: 'NODE_ENV',
  port: 'JOT_PORT',
  host: 'JOT_HOST',
  dataDir: 'JOT_DATA_DIR',
  databaseUrl: 'JOT_DATABASE_URL',
  databaseNamedStatements: 'JOT_DATABASE_NAMED_STATEMENTS',
  issuer: 'JOT_ISSUER',
  audience: 'JOT_AUDIENCE',
  kek: 'JOT_KEK',
  signingAlg: 'JOT_SIGNING_ALG',
  accessTokenTtl: 'JOT_ACCESS_TOKEN_TTL',
  refreshIdleTimeout: 'JOT_REFRESH_IDLE_TIMEOUT',
  sessionMaxLifetime: 'JOT_SESSION_MAX_LIFETIME',
  sessionRetention: 'JOT_SESSION_RETENTION',
  refreshGraceWindow: 'JOT_REFRESH_GRACE_WINDOW',
  tokenMode: 'JOT_TOKEN_MODE',
  clockTolerance: 'JOT_CLOCK_TOLERANCE',
  keyRotationInterval: 'JOT_KEY_ROTATION_INTERVAL',
  keyPrepublish: 'JOT_KEY_PREPUBLISH',
  jwksMaxAge: 'JOT_JWKS_MAX_AGE',
  stepUpMaxAge: 'JOT_STEP_UP_MAX_AGE',
  roleScopes: 'JOT_ROLE_SCOPES',
  clientAssertionMaxLifetime: 'JOT_CLIENT_ASSERTION_MAX_LIFETIME',
  exchangedTokenTtl: 'JOT_EXCHANGED_TOKEN_TTL',
  redisUrl: 'JOT_REDIS_URL',
  redisTimeout: 'JOT_REDIS_TIMEOUT',
  redisNamespace: 'JOT_REDIS_NAMESPACE',
  clusterPollInterval: 'JOT_CLUSTER_POLL_INTERVAL',
  revocationSecret: 'JOT_REVOCATION_SECRET',
  adminEmail: 'JOT_ADMIN_EMAIL',
  adminPassword: 'JOT_ADMIN_PASSWORD',
  logLevel: 'JOT_LOG_LEVEL',
  trustProxy: 'JOT_TRUST_PROXY',
  bodyLimit: 'JOT_BODY_LIMIT',
  requestTimeout: 'JOT_REQUEST_TIMEOUT',
  headersTimeout: 'JOT_HEADERS_TIMEOUT',
  keepAliveTimeout: 'JOT_KEEP_ALIVE_TIMEOUT',
  drainTimeout: 'JOT_DRAIN_TIMEOUT',
  drainDelay: 'JOT_DRAIN_DELAY',
  rateLimitAuth: 'JOT_RATE_LIMIT_AUTH',
  corsOrigins: 'JOT_CORS_ORIGINS',
  tokenDelivery: 'JOT_TOKEN_DELIVERY',
  cookieSecure: 'JOT_COOKIE_SECURE',
  dpop: 'JOT_DPOP',
  dpopNonce: 'JOT_DPOP_NONCE',
  dpopProofMaxAge: 'JOT_DPOP_PROOF_MAX_AGE',
  dpopAlgorithms: 'JOT_DPOP_ALGS',
  externalUrl: 'JOT_EXTERNAL_URL',
  encryptionKeys: 'JOT_ENCRYPTION_KEYS',
  loginLockout: 'JOT_LOGIN_LOCKOUT',
  loginLockoutMax: 'JOT_LOGIN_LOCKOUT_MAX',
  loginDeviceTtl: 'JOT_LOGIN_DEVICE_TTL',
  rateLimitRenew: 'JOT_RATE_LIMIT_RENEW',
  rateLimitClient: 'JOT_RATE_LIMIT_CLIENT',
  rateLimitResourceServer: 'JOT_RATE_LIMIT_RESOURCE_SERVER',
  metricsToken: 'JOT_METRICS_TOKEN',
  argon2MemoryKib: 'JOT_ARGON2_MEMORY_KIB',
  argon2TimeCost: 'JOT_ARGON2_TIME_COST',
  argon2Parallelism: 'JOT_ARGON2_PARALLELISM',
  hashConcurrency: 'JOT_HASH_CONCURRENCY',
  publicUrl: 'JOT_PUBLIC_URL',
  smtpUrl: 'JOT_SMTP_URL',
  mailFrom: 'JOT_MAIL_FROM',
  mailTemplatesDir: 'JOT_MAIL_TEMPLATES_DIR',
  mailRetryBase: 'JOT_MAIL_RETRY_BASE',
  emailVerification: 'JOT_EMAIL_VERIFICATION',
  registration: 'JOT_REGISTRATION',
  passwordResetTtl: 'JOT_PASSWORD_RESET_TTL',
  emailVerificationTtl: 'JOT_EMAIL_VERIFICATION_TTL',
  emailChangeTtl: 'JOT_EMAIL_CHANGE_TTL',
  invitationTtl: 'JOT_INVITATION_TTL',
  rateLimitMail: 'JOT_RATE_LIMIT_MAIL',
  mfaRequired: 'JOT_MFA_REQUIRED',
  mfaTokenTtl: 'JOT_MFA_TOKEN_TTL',
  mfaAccountLimit: 'JOT_MFA_ACCOUNT_LIMIT',
  webauthnRpId: 'JOT_WEBAUTHN_RP_ID',
  webauthnRpName: 'JOT_WEBAUTHN_RP_NAME',
  webauthnOrigins: 'JOT_WEBAUTHN_ORIGINS',
  theftWindow: 'JOT_THEFT_WINDOW',
  theftResponses: 'JOT_THEFT_RESPONSES',
  failureBurst: 'JOT_FAILURE_BURST',
  refreshAnomalyLimit: 'JOT_REFRESH_ANOMALY_LIMIT',
  refreshSessionLimit: 'JOT_REFRESH_SESSION_LIMIT',
};

/** Settings whose values never appear in an error message (the database URL may embed a password). */
export const SECRET_SETTINGS: ReadonlySet<SettingKey> = new Set([
  'kek',
  'revocationSecret',
  'adminPassword',
  'redisUrl',
  'databaseUrl',
  'smtpUrl',
  'encryptionKeys',
  'metricsToken',
]);
