/**
 * The Jot server: Fastify with one plugin per feature over the shared services in `app.jot`.
 * `createServer` wires everything from a Config (opening the store); `buildApp` takes ready services (tests).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';

import { HEADERS, REDIS_PREFIXES } from '@jot/contract';

import type { Config } from './config/index.js';
import type { Clock } from './clock.js';
import type { ServerContext } from './context.js';
import { installDrain } from './http/drain.js';
import { installErrorHandlers } from './http/error-handler.js';
import { recordCsrfRejections } from './http/csrf-events.js';
import { HttpError } from './http/errors.js';
import { installInputGuard } from './http/input-guard.js';
import { collectRoutes } from './http/route-table.js';
import { fallbackRateLimitStore } from './http/rate-limit-store.js';
import { rateLimitEvents } from './http/rate-limit.js';
import { errorSchema } from './http/schemas.js';
import { schemaController } from './http/validation.js';
import { createKeyManager } from './keys/key-manager.js';
import { accountsPlugin } from './plugins/accounts.js';
import { adminDeleteUserPlugin } from './plugins/admin-delete-user.js';
import { adminClientsPlugin } from './plugins/admin-clients.js';
import { adminKeysPlugin } from './plugins/admin-keys.js';
import { adminMfaPlugin } from './plugins/admin-mfa.js';
import { adminUsersPlugin } from './plugins/admin-users.js';
import { emailVerificationPlugin } from './plugins/email-verification.js';
import { healthPlugin } from './plugins/health.js';
import { invitationsPlugin } from './plugins/invitations.js';
import { jwksPlugin } from './plugins/jwks.js';
import { metricsPlugin } from './plugins/metrics.js';
import { oauthPlugin } from './plugins/oauth.js';
import { mfaPlugin } from './plugins/mfa.js';
import { mfaSignInPlugin } from './plugins/mfa-signin.js';
import { openapiPlugin } from './plugins/openapi.js';
import { passkeysPlugin } from './plugins/passkeys.js';
import { passwordPlugin } from './plugins/password.js';
import { passwordResetPlugin } from './plugins/password-reset.js';
import { profilePlugin } from './plugins/profile.js';
import { revocationFeedPlugin } from './plugins/revocation-feed.js';
import { sessionsPlugin } from './plugins/sessions.js';
import { tokensPlugin } from './plugins/tokens/index.js';
import { webPlugin } from './plugins/web.js';
import { createAccountMail } from './services/account-mail.js';
import { createCsrfTokens } from './services/csrf.js';
import { createMailer } from './services/mail/mailer.js';
import { createOneTimeTokens } from './services/one-time-tokens.js';
import { pruneExpired, PRUNE_INTERVAL_MS } from './services/pruning.js';

import { createKek } from './keys/kek.js';
import { createClientKeys } from './services/client-keys.js';
import { createClientService } from './services/clients.js';
import { createScopePolicy } from './services/scopes.js';
import { createTokenStatus } from './services/token-status.js';
import { createServerDPoP } from './services/dpop.js';
import { createAccountService } from './services/accounts.js';
import { createLoginThrottle } from './services/login-throttle.js';
import { createMetrics } from './services/metrics.js';
import { createMfaServices } from './services/mfa-services.js';
import { createPasswordHasher } from './services/passwords.js';
import { startClusterSync } from './services/cluster-sync.js';
import { createRedisMirror, type RedisMirror } from './services/redis-mirror.js';
import { createRevocationService } from './services/revocation.js';
import { createSecurityEvents } from './services/security-events.js';
import { createSessionService } from './services/sessions.js';
import { watchFailures, watchSessions } from './services/theft-signals.js';
import { createTokenService } from './services/tokens.js';
import { openStore, type Store } from './store/index.js';

/** How often the argon2 parameter sets of the stored hashes are read again (see services/passwords.ts). */
const LEARN_HASH_PARAMETERS_INTERVAL_MS = 3_600_000;

/** Options of `createServer`. */
export interface CreateServerOptions {
  config: Config;
  /** Inject a clock (epoch ms) for tests. */
  clock?: Clock;
  /** Use an already opened store instead of opening `config.databaseUrl`. */
  store?: Store;
  /** Fastify logger option; defaults to pino at `config.logLevel` with secrets redacted. */
  logger?: FastifyServerOptions['logger'];
}

/** Headers that must never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  `req.headers["${HEADERS.csrf}"]`,
  'res.headers["set-cookie"]',
];

/**
 * Connects to Redis and checks it answers, or fails naming the setting (never echoing the URL). Redis only
 * accelerates, so every command fails fast: nothing is queued while disconnected, nothing is retried, and no command
 * waits longer than `timeoutMs`; the client reconnects in the background for as long as it takes.
 */
async function connectRedis(url: string, timeoutMs: number): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  redis.on('error', () => undefined); // reported by connect() below; the server adds a logging listener after
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new Error(
      `JOT_REDIS_URL: Redis did not answer (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

/** Logs Redis connection errors once per outage (a reconnecting client repeats them many times a second). */
function redisErrorLogger(log: FastifyInstance['log']): (err: Error) => void {
  let last = '';
  let at = 0;
  return (err) => {
    const now = Date.now();
    if (err.message === last && now - at < 60_000) return;
    last = err.message;
    at = now;
    log.warn({ err }, 'Redis error (Redis-backed features fall back until it answers)');
  };
}

/** Fastify's `trustProxy` from ours: a hop count becomes the equivalent function. */
function trustProxyOption(
  value: Config['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return typeof value === 'boolean' ? value : [...value];
}

/** Builds the Fastify instance with every plugin, opening the store and creating the services. */
export async function createServer(options: CreateServerOptions): Promise<FastifyInstance> {
  const { config } = options;
  const clock = options.clock ?? Date.now;
  const app = Fastify({
    logger: options.logger ?? {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: trustProxyOption(config.trustProxy),
    return503OnClosing: true,
    // Slow clients are cut off (408) rather than held open; see docs/deploy.md for how these fit a load balancer.
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      // Node checks the two timeouts above on this interval (30 s by default, which would stretch them).
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
    },
    schemaController,
  });
  const store =
    options.store ?? (await openStore({ url: config.databaseUrl, dataDir: config.dataDir, now: clock }));
  const ownsStore = options.store === undefined;
  let redis: Redis | undefined;
  let mailerToClose: { close(): Promise<void> } | undefined;
  try {
    redis =
      config.redisUrl === undefined ? undefined : await connectRedis(config.redisUrl, config.redisTimeoutMs);
    const keys = await createKeyManager({ store, config, clock, logger: app.log });
    const passwords = await createPasswordHasher({
      memoryKiB: config.argon2MemoryKib,
      timeCost: config.argon2TimeCost,
      parallelism: config.argon2Parallelism,
    });
    const events = createSecurityEvents(store, app.log);
    const metrics = createMetrics({ processMetrics: true });
    const revocations = createRevocationService(
      store,
      clock,
      { accessTokenTtlMs: config.accessTokenTtlMs, clockToleranceMs: config.clockToleranceMs },
      metrics.revocations,
    );
    const tokens = createTokenService(
      keys,
      {
        issuer: config.issuer,
        audience: config.audience,
        accessTokenTtlSeconds: Math.floor(config.accessTokenTtlMs / 1000),
        clockToleranceSeconds: Math.floor(config.clockToleranceMs / 1000),
        encryptionKeys: config.encryptionKeys,
      },
      clock,
      metrics.tokensIssued,
    );
    const csrf = createCsrfTokens(config.kek);
    const scopes = createScopePolicy(config.roleScopes, store);
    const sessions = createSessionService({
      csrf,
      scopes,
      store,
      tokens,
      revocations,
      events,
      clock,
      settings: {
        mode: config.tokenMode,
        idleTimeoutMs: config.refreshIdleTimeoutMs,
        maxLifetimeMs: config.sessionMaxLifetimeMs,
        graceMs: config.refreshGraceWindowMs,
        clockToleranceMs: config.clockToleranceMs,
      },
    });
    const mailer = createMailer({ config, store, logger: app.log, clock });
    mailerToClose = mailer;
    const oneTimeTokens = createOneTimeTokens({
      kek: config.kek,
      issuer: config.issuer,
      store,
      clock,
      clockToleranceSeconds: Math.floor(config.clockToleranceMs / 1000),
    });
    // Theft signals (issue 13): failure bursts on the events, session signals and new-device mail on the sessions.
    const theft = { store, revocations, config, clock, logger: app.log, mailer };
    const watchedEvents = watchFailures(events, theft);
    const context: ServerContext = {
      config,
      store,
      clock,
      keys,
      passwords,
      tokens,
      sessions: watchSessions(sessions, { ...theft, events: watchedEvents }),
      revocations,
      events: watchedEvents,
      accounts: createAccountService({ store, passwords, events: watchedEvents }),
      loginThrottle: createLoginThrottle(store, clock, config.loginLockout),
      csrf,
      metrics,
      mfa: createMfaServices({ store, keys, config, clock, events: watchedEvents }),
      redis,
      mailer,
      oneTimeTokens,
      accountMail: createAccountMail({ config, mailer, tokens: oneTimeTokens }),
      scopes,
      clients: createClientService({
        store,
        kek: createKek(config.kek),
        revocations,
        clock,
        production: config.nodeEnv === 'production',
        defaultTokenTtlMs: config.accessTokenTtlMs,
      }),
      clientKeys: createClientKeys(clock),
      tokenStatus: createTokenStatus({ tokens, revocations, store, clock }),
      dpop: createServerDPoP({
        config,
        store,
        redis,
        clock,
        onRedisError: (err) =>
          app.log.warn({ err }, 'Redis failed for a DPoP replay check; used the database'),
      }),
    };
    await context.clients.ensureFirstParty();
    app.decorate('jot', context);
    app.decorateRequest('auth', undefined);

    // Failed sign-ins are padded to the costliest argon2 parameters in use: learn those the stored hashes use now
    // (after a restart the server remembers none) and again every hour, off the request path.
    let lastLearnedAt = 0;
    const learnHashParameters = (): void => {
      lastLearnedAt = Date.now();
      passwords
        .learn(() => store.passwordHashParameters())
        .catch((err: unknown) => app.log.warn({ err }, 'reading the stored password hash parameters failed'));
    };
    learnHashParameters();
    const pruneTimer = setInterval(() => {
      if (Date.now() - lastLearnedAt >= LEARN_HASH_PARAMETERS_INTERVAL_MS) learnHashParameters();
      void pruneExpired({
        store,
        revocations,
        loginThrottle: context.loginThrottle,
        warn: (err, what) => app.log.warn({ err }, what),
      });
    }, PRUNE_INTERVAL_MS);
    pruneTimer.unref();
    let mirror: RedisMirror | undefined;
    if (redis !== undefined) {
      redis.on('error', redisErrorLogger(app.log));
      mirror = await createRedisMirror(redis, store, revocations, app.log);
    }
    const cluster = startClusterSync({
      store,
      keys,
      revocations,
      pollIntervalMs: config.clusterPollIntervalMs,
      logger: app.log,
    });
    app.addHook('onClose', async () => {
      clearInterval(pruneTimer);
      keys.close();
      mirror?.close();
      await mailer.close();
      await cluster.close();
      await redis?.quit().catch(() => undefined);
      if (ownsStore) await store.close();
    });

    await buildApp(app);
    return app;
  } catch (err) {
    await mailerToClose?.close();
    redis?.disconnect();
    if (ownsStore) await store.close();
    await app.close().catch(() => undefined);
    throw err;
  }
}

/** Registers hooks, handlers and feature plugins on an app whose `jot` context is decorated. */
export async function buildApp(app: FastifyInstance): Promise<void> {
  collectRoutes(app);
  installDrain(app);
  app.addSchema(errorSchema);
  // JSON only: a text/plain body (which a cross-site form can send without a preflight) is refused with 415.
  app.removeContentTypeParser('text/plain');
  installErrorHandlers(app);
  installInputGuard(app);
  recordCsrfRejections(app);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
  });
  await app.register(cookie);
  const origins = app.jot.config.corsOrigins;
  if (origins.length > 0) {
    // An explicit allow-list only: an Origin not on it gets no CORS headers at all (never a reflected '*').
    await app.register(cors, {
      origin: [...origins],
      credentials: true,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', HEADERS.csrf, HEADERS.dpop],
      exposedHeaders: [HEADERS.dpopNonce, 'www-authenticate'],
      maxAge: 600,
    });
  }
  await app.register(rateLimit, {
    global: false,
    // With Redis the limits hold across every instance; while Redis fails, each instance counts on its own.
    ...(app.jot.redis === undefined
      ? {}
      : {
          store: fallbackRateLimitStore(app.jot.redis, REDIS_PREFIXES.rateLimit, app.log),
          skipOnError: true,
        }),
    onExceeded: rateLimitEvents(app.jot.events, app.jot.config.rateLimitAuth.windowMs),
    errorResponseBuilder: (_request, context) =>
      new HttpError(
        429,
        'ERR_RATE_LIMITED',
        `too many attempts; try again in ${Math.ceil(context.ttl / 1000)} s`,
        {
          error: 'rate_limited',
          headers: { 'retry-after': String(Math.ceil(context.ttl / 1000)) },
        },
      ),
  });
  await app.register(openapiPlugin);
  await app.register(metricsPlugin, {
    metrics: app.jot.metrics,
    token: app.jot.config.metricsToken,
    openWithoutToken: app.jot.config.nodeEnv !== 'production',
  });
  await app.register(healthPlugin);
  await app.register(jwksPlugin);
  await app.register(accountsPlugin);
  await app.register(passwordPlugin);
  await app.register(tokensPlugin);
  await app.register(sessionsPlugin);
  await app.register(adminUsersPlugin);
  await app.register(adminKeysPlugin);
  // Account lifecycle and mail (issue 12).
  await app.register(passwordResetPlugin);
  await app.register(emailVerificationPlugin);
  await app.register(profilePlugin);
  await app.register(invitationsPlugin);
  await app.register(adminDeleteUserPlugin);
  await app.register(mfaSignInPlugin);
  await app.register(mfaPlugin);
  await app.register(passkeysPlugin);
  await app.register(adminMfaPlugin);
  await app.register(revocationFeedPlugin);
  await app.register(adminClientsPlugin);
  await app.register(oauthPlugin);
  await app.register(webPlugin);
}
