/**
 * The services every route plugin shares, built once per server and hung on the Fastify instance as `app.jot`.
 * Only this object escapes plugin encapsulation.
 */
import type { Redis } from 'ioredis';

import type { TokenLocation, UserAccessTokenClaims } from '@jot/contract';
import type { DPoPChecker } from '@jot/jose';

import type { Clock } from './clock.js';
import type { Config } from './config/index.js';
import type { KeyManager } from './keys/types.js';
import type { AccountMail } from './services/account-mail.js';
import type { AccountService } from './services/accounts.js';
import type { CsrfTokens } from './services/csrf.js';
import type { Mailer } from './services/mail/mailer.js';
import type { ClientKeys } from './services/client-keys.js';
import type { ClientService } from './services/clients.js';
import type { ScopePolicy } from './services/scopes.js';
import type { TokenStatus } from './services/token-status.js';
import type { Metrics } from './services/metrics.js';
import type { OneTimeTokens } from './services/one-time-tokens.js';
import type { MfaServices } from './services/mfa-services.js';
import type { LoginDeviceService } from './services/login-devices.js';
import type { LoginThrottleService } from './services/login-throttle.js';
import type { PasswordHasher } from './services/passwords.js';
import type { RevocationService } from './services/revocation.js';
import type { SessionService } from './services/sessions.js';
import type { TokenService } from './services/tokens.js';
import type { SecurityEvents } from './services/security-events.js';
import type { Store, User } from './store/index.js';

/** The shared services. */
export interface ServerContext {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
  readonly keys: KeyManager;
  readonly passwords: PasswordHasher;
  readonly tokens: TokenService;
  readonly sessions: SessionService;
  readonly revocations: RevocationService;
  readonly events: SecurityEvents;
  readonly accounts: AccountService;
  readonly loginThrottle: LoginThrottleService;
  /** Device credentials: what a successful sign-in gives the client, for the throttle to trust it later. */
  readonly loginDevices: LoginDeviceService;
  readonly csrf: CsrfTokens;
  readonly metrics: Metrics;
  /** Second factors, passkeys and the two-step sign-in. */
  readonly mfa: MfaServices;
  /** Present when `JOT_REDIS_URL` is set. */
  readonly redis: Redis | undefined;
  /** Queues mail through the outbox (see services/mail/mailer.ts). */
  readonly mailer: Mailer;
  /** One-time JWTs for links (verification, reset, invitation, email change). */
  readonly oneTimeTokens: OneTimeTokens;
  /** The account-lifecycle messages. */
  readonly accountMail: AccountMail;
  /** The OAuth client registry. */
  readonly clients: ClientService;
  /** Public keys of `private_key_jwt` clients. */
  readonly clientKeys: ClientKeys;
  /** The `scope` of user tokens. */
  readonly scopes: ScopePolicy;
  /** Whether any token this server issued is active. */
  readonly tokenStatus: TokenStatus;
  /** DPoP proof checks (RFC 9449), shared by the token endpoints and `authenticate`. */
  readonly dpop: DPoPChecker;
}

/** Who a request is authenticated as (set by the `authenticate` pre-handler). */
export interface AuthContext {
  /** The verified access-token claims. */
  readonly claims: UserAccessTokenClaims;
  /** The raw access token (never logged). */
  readonly token: string;
  /** How the token arrived (`dpop`: `Authorization: DPoP` with a verified proof). */
  readonly via: TokenLocation;
  /** The user as the request's revocation check read it (set by `authenticate`), so a route need not read it again. */
  readonly user?: User;
}

declare module 'fastify' {
  /** OpenAPI documentation fields on route schemas (read by the openapi plugin). */
  interface FastifySchema {
    tags?: readonly string[];
    summary?: string;
    description?: string;
    /**
     * Documentation only: the parameters of an `application/x-www-form-urlencoded` body (the OAuth endpoints parse
     * and check it themselves), published as the operation's form request body.
     */
    formBody?: Readonly<Record<string, unknown>>;
  }
  interface FastifyInstance {
    jot: ServerContext;
  }
  interface FastifyRequest {
    auth: AuthContext | undefined;
  }
}
