/**
 * Builds the `ServerContext` (`app.jot`) from the configuration: the signing keys, the password hasher, every
 * service over the store, and the theft-signal watchers wrapped around the sessions and the security events.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { ServerContext } from '../context.js';
import { createKeyManager } from '../keys/key-manager.js';
import type { KeyManager } from '../keys/types.js';
import { createAccountMail } from '../services/account-mail.js';
import { createAccountService } from '../services/accounts.js';
import { createClientKeys } from '../services/client-keys.js';
import { createCsrfTokens } from '../services/csrf.js';
import { createRefreshTokenTags } from '../services/refresh-token-tags.js';
import { createServerDPoP } from '../services/dpop.js';
import { createLoginDevices } from '../services/login-devices.js';
import { createLoginThrottle } from '../services/login-throttle.js';
import { createMailer, type Mailer } from '../services/mail/mailer.js';
import { createMetrics } from '../services/metrics.js';
import { createMfaServices } from '../services/mfa-services.js';
import { createPasswordHasher } from '../services/passwords.js';
import { createScopePolicy } from '../services/scopes.js';
import { createSecurityEvents } from '../services/security-events.js';
import { createSessionService } from '../services/sessions.js';
import { watchFailures, watchSessions } from '../services/theft-signals.js';
import { createTokenStatus } from '../services/token-status.js';
import type { Store } from '../store/index.js';
import {
  clientsFromConfig,
  oneTimeTokensFromConfig,
  revocationsFromConfig,
  tokensFromConfig,
} from './from-config.js';

/** What the context is built over. */
export interface ContextInputs {
  config: Config;
  store: Store;
  clock: Clock;
  /** The connected client when `JOT_REDIS_URL` is set. */
  redis: Redis | undefined;
  logger: FastifyBaseLogger;
}

/** The services the others are built on. */
type CoreServices = Pick<
  ServerContext,
  'keys' | 'passwords' | 'events' | 'metrics' | 'revocations' | 'tokens' | 'csrf' | 'scopes' | 'sessions'
>;

/** Builds every shared service; the mailer it opened is closed again when a later step fails. */
export async function createServerContext(inputs: ContextInputs): Promise<ServerContext> {
  const core = await createCoreServices(inputs);
  const { config, store, clock, logger } = inputs;
  const mailer = createMailer({ config, store, logger, clock });
  try {
    return assembleContext(inputs, core, mailer);
  } catch (err) {
    await mailer.close();
    throw err;
  }
}

async function createCoreServices(inputs: ContextInputs): Promise<CoreServices> {
  const { config, store, clock, logger } = inputs;
  const keys: KeyManager = await createKeyManager({ store, config, clock, logger });
  const passwords = await createPasswordHasher(
    {
      memoryKiB: config.argon2MemoryKib,
      timeCost: config.argon2TimeCost,
      parallelism: config.argon2Parallelism,
    },
    { concurrency: config.hashConcurrency },
  );
  const events = createSecurityEvents(store, logger);
  const metrics = createMetrics({ processMetrics: true });
  const revocations = revocationsFromConfig(config, store, clock, metrics.revocations);
  const tokens = tokensFromConfig(config, keys, clock, metrics.tokensIssued);
  const csrf = createCsrfTokens(config.kek);
  const scopes = createScopePolicy(config.roleScopes, store);
  const sessions = createSessionService({
    csrf,
    refreshTokens: createRefreshTokenTags(config.kek),
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
      rotationWindowMs: config.accessTokenTtlMs,
      rotationLimit: config.refreshSessionLimit,
    },
  });
  return { keys, passwords, events, metrics, revocations, tokens, csrf, scopes, sessions };
}

function assembleContext(inputs: ContextInputs, core: CoreServices, mailer: Mailer): ServerContext {
  const { config, store, clock, redis, logger } = inputs;
  const { keys, passwords, tokens, revocations, events } = core;
  const oneTimeTokens = oneTimeTokensFromConfig(config, store, clock);
  // Theft signals (issue 13): failure bursts on the events, session signals and new-device mail on the sessions.
  const theft = { store, revocations, config, clock, logger, mailer };
  const watchedEvents = watchFailures(events, theft);
  const loginDevices = createLoginDevices(config.kek, clock, config.loginDeviceTtlMs);
  return {
    ...core,
    config,
    store,
    clock,
    sessions: watchSessions(core.sessions, { ...theft, events: watchedEvents }),
    events: watchedEvents,
    accounts: createAccountService({ store, passwords, events: watchedEvents }),
    loginThrottle: createLoginThrottle(store, clock, config.loginLockout, loginDevices),
    loginDevices,
    mfa: createMfaServices({ store, keys, config, clock, events: watchedEvents, log: logger }),
    redis,
    mailer,
    oneTimeTokens,
    accountMail: createAccountMail({ config, mailer, tokens: oneTimeTokens }),
    clients: clientsFromConfig(config, store, revocations, clock),
    clientKeys: createClientKeys(clock),
    tokenStatus: createTokenStatus({ tokens, revocations, store, clock }),
    dpop: createServerDPoP({
      config,
      store,
      redis,
      clock,
      onRedisError: (err) =>
        logger.warn({ err }, 'Redis failed for a DPoP replay check; the database alone decided'),
    }),
  };
}
