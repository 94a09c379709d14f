/**
 * The Jot server: Fastify with one plugin per feature over the shared services in `app.jot`.
 * `createServer` wires everything from a Config (opening the store); `buildApp` takes ready services (tests).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

import { HEADERS, redisNames } from '@jot/contract';

import type { Config } from './config/index.js';
import type { Clock } from './clock.js';
import { startBackgroundWork } from './compose/background.js';
import { createServerContext } from './compose/context.js';
import type { ServerContext } from './context.js';
import { addressKey } from './http/address-key.js';
import { installBodyEncoding } from './http/body-encoding.js';
import { installConnectMethod } from './http/connect-method.js';
import { installDrain } from './http/drain.js';
import { installJsonParser } from './http/json-body.js';
import { clientErrorHandler, frameworkErrors, installErrorHandlers } from './http/error-handler.js';
import { installExpectHeader } from './http/expect-header.js';
import { recordCsrfRejections } from './http/csrf-events.js';
import { HttpError } from './http/errors.js';
import { installSingletonHeaders } from './http/singleton-headers.js';
import { installInputGuard } from './http/input-guard.js';
import { collectRoutes } from './http/route-table.js';
import { fallbackRateLimitStore, localRateLimitStore } from './http/rate-limit-store.js';
import { rateLimitEvents } from './http/rate-limit.js';
import { errorSchema } from './http/schemas.js';
import { schemaController } from './http/validation.js';
import { accountsPlugin } from './plugins/accounts/index.js';
import { adminDeleteUserPlugin } from './plugins/admin-delete-user.js';
import { adminClientsPlugin } from './plugins/admin-clients/index.js';
import { adminKeysPlugin } from './plugins/admin-keys.js';
import { adminMfaPlugin } from './plugins/admin-mfa.js';
import { adminUsersPlugin } from './plugins/admin-users/index.js';
import { emailVerificationPlugin } from './plugins/email-verification.js';
import { healthPlugin } from './plugins/health.js';
import { invitationsPlugin } from './plugins/invitations/index.js';
import { jwksPlugin } from './plugins/jwks.js';
import { metricsPlugin } from './plugins/metrics.js';
import { oauthPlugin } from './plugins/oauth.js';
import { mfaPlugin } from './plugins/mfa/index.js';
import { mfaSignInPlugin } from './plugins/mfa-signin.js';
import { openapiPlugin } from './plugins/openapi.js';
import { passkeysPlugin } from './plugins/passkeys/index.js';
import { passwordPlugin } from './plugins/password/index.js';
import { passwordResetPlugin } from './plugins/password-reset.js';
import { profilePlugin } from './plugins/profile/index.js';
import { revocationFeedPlugin } from './plugins/revocation-feed.js';
import { sessionsPlugin } from './plugins/sessions.js';
import { tokensPlugin } from './plugins/tokens/index.js';
import { webPlugin } from './plugins/web.js';
import { connectRedis } from './services/redis-connection.js';
import { openStore, type Store } from './store/index.js';

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

/** Fastify's `trustProxy` from ours: a hop count becomes the equivalent function. */
function trustProxyOption(
  value: Config['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return typeof value === 'boolean' ? value : [...value];
}

/** The Fastify instance for `config`, before any plugin. */
function createFastify(config: Config, logger: CreateServerOptions['logger']): FastifyInstance {
  return Fastify({
    logger: logger ?? {
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
      // Node checks headersTimeout <= requestTimeout when the server is created, against the requestTimeout given
      // here (300 s when none is; Fastify only sets its own afterwards): both go in, so what the configuration
      // accepts (headers at most request) starts.
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      // Node checks the two timeouts above on this interval (30 s by default, which would stretch them).
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
    },
    schemaController,
    clientErrorHandler,
    frameworkErrors,
  });
}

/**
 * Builds the Fastify instance with every plugin, opening the store (unless given one) and Redis (when configured),
 * creating the services (`compose/context.ts`) and starting their background work (`compose/background.ts`). A
 * failure on the way closes what was opened.
 */
export async function createServer(options: CreateServerOptions): Promise<FastifyInstance> {
  const { config } = options;
  const clock = options.clock ?? Date.now;
  const app = createFastify(config, options.logger);
  const store =
    options.store ??
    (await openStore({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      now: clock,
      postgres: { namedStatements: config.databaseNamedStatements },
      // Connection problems of the pool and the change listener, and the migrations applied, go to the server log.
      logger: app.log,
    }));
  const ownsStore = options.store === undefined;
  let redis: Redis | undefined;
  let context: ServerContext | undefined;
  try {
    redis =
      config.redisUrl === undefined ? undefined : await connectRedis(config.redisUrl, config.redisTimeoutMs);
    context = await createServerContext({ config, store, clock, redis, logger: app.log });
    await context.clients.ensureFirstParty();
    app.decorate('jot', context);
    app.decorateRequest('auth', undefined);
    await startBackgroundWork(app, ownsStore);
    await buildApp(app);
    return app;
  } catch (err) {
    await context?.mailer.close();
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
  installJsonParser(app);
  installErrorHandlers(app);
  installInputGuard(app);
  installSingletonHeaders(app);
  installExpectHeader(app);
  installBodyEncoding(app);
  installConnectMethod(app);
  recordCsrfRejections(app);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
  });
  await app.register(cookie);
  await registerCors(app);
  await registerRateLimit(app);
  await registerFeatures(app);
}

/** CORS for the configured origins only: an Origin not on the list gets no CORS headers (never a reflected '*'). */
async function registerCors(app: FastifyInstance): Promise<void> {
  const origins = app.jot.config.corsOrigins;
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: [...origins],
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', HEADERS.csrf, HEADERS.dpop],
    exposedHeaders: [HEADERS.dpopNonce, 'www-authenticate'],
    maxAge: 600,
  });
}

/** The rate limiter the routes opt into; its refusal is the common error body with `Retry-After`. */
async function registerRateLimit(app: FastifyInstance): Promise<void> {
  const rateLimitPrefix = redisNames(app.jot.config.redisNamespace).rateLimit;
  await app.register(rateLimit, {
    global: false,
    // The routes' per-address limits count under the key every other per-address limit uses (http/address-key.ts):
    // an IPv6 /64, the IPv4 client inside NAT64/6to4/Teredo, no port a proxy appended.
    keyGenerator: (request) => addressKey(request.ip),
    // With Redis the limits hold across every instance; while Redis fails (or without Redis), each instance counts
    // on its own, in bounded memory that never forgets a running window (http/rate-limit-store.ts).
    ...(app.jot.redis === undefined
      ? { store: localRateLimitStore(rateLimitPrefix, app.log) }
      : {
          store: fallbackRateLimitStore(app.jot.redis, rateLimitPrefix, app.log),
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
}

/** The feature plugins, one per area of the API. */
async function registerFeatures(app: FastifyInstance): Promise<void> {
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
