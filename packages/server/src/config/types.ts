/**
 * The validated, frozen configuration the server runs with. Every duration is in milliseconds
 * (the field name ends in `Ms`); see defaults.ts for the defaults and the environment variables.
 */
import type { Buffer } from 'node:buffer';
import type { Algorithm, JWK } from '@jot/jose';
import type { SessionDelivery } from '@jot/contract';

/** Runtime mode. */
export type NodeEnv = 'development' | 'production' | 'test';

/** Pino log levels. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** How access and refresh tokens reach a browser (the contract's `SessionDelivery`). */
export type TokenDelivery = SessionDelivery;

/** How sessions issue tokens. */
export type TokenMode = 'refresh' | 'single';

/**
 * Who may create accounts: `open` self-registration, `invite` (admin invitations only) or `closed` (admins create
 * them).
 */
export type Registration = 'open' | 'invite' | 'closed';

/** Email verification policy. */
export type EmailVerification = 'off' | 'optional' | 'required';
/** Who must use a second factor: nobody is forced, admins, or every account. */
export type MfaPolicy = 'none' | 'admins' | 'all';

/** A theft signal (see docs/mfa.md). */
export type TheftSignal =
  'session_network_changed' | 'session_agent_changed' | 'refresh_anomaly' | 'failure_burst';

/** What the server does when a theft signal fires (the event is always recorded). */
export type TheftResponse = 'record' | 'step_up' | 'revoke';
/** The same union as {@link Registration}. */
export type RegistrationMode = Registration;

/** The loaded configuration. */
export interface Config {
  nodeEnv: NodeEnv;
  port: number;
  host: string;
  /** Absolute path. */
  dataDir: string;
  /** `postgres://…`, an absolute SQLite file path, or `:memory:`. */
  databaseUrl: string;
  /** PostgreSQL: hot statements as named prepared statements (off behind an old transaction-mode PgBouncer). */
  databaseNamedStatements: boolean;
  issuer: string;
  /** At least one entry. */
  audience: readonly string[];
  /** The 32-byte key-encryption key. Never log it. */
  kek: Buffer;
  /** True when `kek` is the development key from `<dataDir>/dev-kek` (generated now or earlier): warn loudly. */
  kekGenerated: boolean;
  signingAlg: Algorithm;
  accessTokenTtlMs: number;
  refreshIdleTimeoutMs: number;
  sessionMaxLifetimeMs: number;
  /** How long an ended session and its refresh tokens are kept before the sweep deletes them; at least 2 days. */
  sessionRetentionMs: number;
  refreshGraceWindowMs: number;
  tokenMode: TokenMode;
  clockToleranceMs: number;
  keyRotationIntervalMs: number;
  /** At least `jwksMaxAgeMs`, so every cached JWKS knows a key before it signs. */
  keyPrepublishMs: number;
  jwksMaxAgeMs: number;
  /** Maximum age of the last password authentication for sensitive admin actions. */
  stepUpMaxAgeMs: number;
  /** Scopes of user tokens by role (`*` = every user); see `JOT_ROLE_SCOPES`. */
  roleScopes: ReadonlyMap<string, readonly string[]>;
  clientAssertionMaxLifetimeMs: number;
  exchangedTokenTtlMs: number;
  /** `redis://` or `rediss://` URL, when Redis is used. Never log it (it may hold a password). */
  redisUrl: string | undefined;
  /** Bound on one Redis command; a slower or failed one falls back. */
  redisTimeoutMs: number;
  /** The namespace of every Redis key and channel (`<namespace>:…`); deployments sharing a Redis need one each. */
  redisNamespace: string;
  /** Polling bound for changes made on other instances when nothing is pushed. */
  clusterPollIntervalMs: number;
  /** At least 32 characters when set. */
  revocationSecret: string | undefined;
  /** Both set or both undefined. */
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  logLevel: LogLevel;
  /** Fastify's `trustProxy`: all, none, a hop count, or addresses/CIDRs. */
  trustProxy: boolean | number | readonly string[];
  bodyLimitBytes: number;
  /** Headers and body of a request must arrive within this. */
  requestTimeoutMs: number;
  /** At most `requestTimeoutMs`. */
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** How long a shutdown waits for in-flight requests. */
  drainTimeoutMs: number;
  /** How long a shutdown keeps accepting connections after `/readyz` turns 503, before it stops listening. */
  drainDelayMs: number;
  rateLimitAuth: { readonly max: number; readonly windowMs: number };
  /** Exact origins (`scheme://host[:port]`). */
  corsOrigins: readonly string[];
  tokenDelivery: TokenDelivery;
  cookieSecure: 'auto' | boolean;
  /** DPoP at sign-in and refresh: `optional` binds when a proof comes; `required` refuses requests without. */
  dpop: 'optional' | 'required';
  /** Demand server nonces in DPoP proofs. */
  dpopNonce: boolean;
  dpopProofMaxAgeMs: number;
  /** Asymmetric algorithms accepted for DPoP proofs. */
  dpopAlgorithms: readonly Algorithm[];
  /** The external base URL (no trailing slash) DPoP proofs name, or undefined to take it from each request. */
  externalUrl: string | undefined;
  /** Audience → public JWK: access tokens for these audiences are encrypted. */
  encryptionKeys: Readonly<Record<string, JWK>>;
  /** Per-account sign-in throttle: free failures, first lock, longest lock. */
  loginLockout: { readonly freeFailures: number; readonly baseMs: number; readonly maxMs: number };
  /** Lifetime of a device credential (the sign-in's device cookie); 0: device credentials are off. */
  loginDeviceTtlMs: number;
  /** Renewals per session (single-token mode). */
  rateLimitRenew: { readonly max: number; readonly windowMs: number };
  /** Calls per authenticated caller of the introspection and revocation endpoints. */
  rateLimitClient: { readonly max: number; readonly windowMs: number };
  /** Calls per address by the revocation secret's holders; `undefined`: no ceiling. */
  rateLimitResourceServer: { readonly max: number; readonly windowMs: number } | undefined;
  /** Bearer token for `GET /metrics`; never log it. */
  metricsToken: string | undefined;
  argon2MemoryKib: number;
  argon2TimeCost: number;
  argon2Parallelism: number;
  /** Hashes running at once; undefined = every core but one (`HASHING_CONCURRENCY`). */
  hashConcurrency: number | undefined;
  /** Base URL of the web UI for links in messages (no trailing slash). */
  publicUrl: string;
  /** `smtp://` or `smtps://` URL; undefined = development mail (log + .eml files). Never log it. */
  smtpUrl: string | undefined;
  mailFrom: string;
  mailRetryBaseMs: number;
  /** Absolute path of the operator's template folder, if any. */
  mailTemplatesDir: string | undefined;
  emailVerification: EmailVerification;
  /** Who may create an account. */
  registration: Registration;
  /** Lifetimes of the one-time links, by kind. */
  oneTimeTokenTtlMs: {
    readonly passwordReset: number;
    readonly emailVerification: number;
    readonly emailChange: number;
    readonly invitation: number;
  };
  rateLimitMail: { readonly max: number; readonly windowMs: number };
  /** Who must sign in with a second factor. */
  mfaRequired: MfaPolicy;
  /** Lifetime of the MFA token between the password step and the second step. */
  mfaTokenTtlMs: number;
  /** Second-factor attempts allowed per account and window (whatever the number of MFA tokens). */
  mfaAccountLimit: { readonly max: number; readonly windowMs: number };
  /** WebAuthn relying-party id (a registrable domain of the origins). */
  webauthnRpId: string;
  /** WebAuthn relying-party name shown by authenticators. */
  webauthnRpName: string;
  /** Origins allowed to use passkeys (exact `scheme://host[:port]`). */
  webauthnOrigins: readonly string[];
  /** How long a session's previous network and user agent are compared with its next use. */
  theftWindowMs: number;
  /** The response to each theft signal. */
  theftResponses: Readonly<Record<TheftSignal, TheftResponse>>;
  /** Failed sign-in or second-factor attempts on one account that count as a burst. */
  failureBurst: { readonly max: number; readonly windowMs: number };
  /** More refresh-token rotations than this within one access-token lifetime is an impossible pattern. */
  refreshAnomalyLimit: number;
  /** Refresh-token rotations of one session within one access-token lifetime after which its refreshes are refused. */
  refreshSessionLimit: number;
  /** The config file that was read, if any. */
  configFile: string | undefined;
}
