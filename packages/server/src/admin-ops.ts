/**
 * Account and key administration without a running server, for the `jot` CLI: the same services and the same rules
 * as the HTTP admin API (a disable or role change bumps the token version and is published to the revocation feed —
 * and to Redis when `JOT_REDIS_URL` is set —, a deletion removes the personal data, an invitation goes through the
 * outbox). Open with `openAdminOps(config)`, `close()` when done.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';

import type { Config } from './config/index.js';
import { createKek } from './keys/kek.js';
import { createKeyManager } from './keys/key-manager.js';
import type { KeyManager } from './keys/types.js';
import { deleteAccount, lastAdmin } from './services/account-deletion.js';
import { createAccountMail } from './services/account-mail.js';
import { createClientService, type ClientService } from './services/clients.js';
import { createMailer, type Mailer } from './services/mail/mailer.js';
import { createOneTimeTokens } from './services/one-time-tokens.js';
import { createRedisMirror, type RedisMirror } from './services/redis-mirror.js';
import { createRevocationService } from './services/revocation.js';
import { createSecurityEvents } from './services/security-events.js';
import { openStore, type Invitation, type Session, type Store, type User } from './store/index.js';

/** What the CLI can do; every change is recorded as a security event with `by: 'cli'`. */
export interface AdminOps {
  readonly store: Store;
  /** A user by email or id; undefined when there is none. */
  findUser(ref: string): Promise<User | undefined>;
  setStatus(user: User, status: 'active' | 'disabled'): Promise<User>;
  setRoles(user: User, roles: readonly string[]): Promise<User>;
  deleteUser(user: User): Promise<void>;
  listSessions(user: User): Promise<Session[]>;
  /** Revokes one session; false when it had ended already. */
  revokeSession(sessionId: string): Promise<boolean>;
  /** Ends every session and token of the user. */
  revokeAllSessions(user: User): Promise<void>;
  /** Creates an invitation and queues its message (delivered now when the mail server answers). */
  invite(email: string, roles: readonly string[]): Promise<Invitation>;
  readonly keys: KeyManager;
  readonly mailer: Mailer;
  /** The OAuth client registry (`jot clients`): the same service as `/api/admin/clients`. */
  readonly clients: ClientService;
  close(): Promise<void>;
}

/** A logger that drops everything (the CLI reports outcomes itself). */
function silentLogger(): FastifyBaseLogger {
  const noop = (): void => undefined;
  const logger: FastifyBaseLogger = {
    level: 'silent',
    fatal: noop,
    error: noop,
    warn: noop,
    info: noop,
    debug: noop,
    trace: noop,
    silent: noop,
    child: () => logger,
  };
  return logger;
}

/** Opens the configured database (migrating it) and the services over it. */
export async function openAdminOps(
  config: Config,
  options: { logger?: FastifyBaseLogger } = {},
): Promise<AdminOps> {
  const logger = options.logger ?? silentLogger();
  const clock = Date.now;
  const store = await openStore({ url: config.databaseUrl, dataDir: config.dataDir });
  let redis: Redis | undefined;
  let mirror: RedisMirror | undefined;
  let keys: KeyManager | undefined;
  let mailer: Mailer | undefined;
  try {
    const events = createSecurityEvents(store, logger);
    const revocations = createRevocationService(store, clock, {
      accessTokenTtlMs: config.accessTokenTtlMs,
      clockToleranceMs: config.clockToleranceMs,
    });
    if (config.redisUrl !== undefined) {
      redis = new Redis(config.redisUrl, {
        maxRetriesPerRequest: 2,
        connectTimeout: 3000,
        lazyConnect: true,
      });
      redis.on('error', () => undefined);
      await redis.connect();
      mirror = await createRedisMirror(redis, store, revocations, logger);
    }
    keys = await createKeyManager({ store, config, clock, logger });
    mailer = createMailer({ config, store, logger, clock });
    const oneTimeTokens = createOneTimeTokens({
      kek: config.kek,
      issuer: config.issuer,
      store,
      clock,
      clockToleranceSeconds: Math.floor(config.clockToleranceMs / 1000),
    });
    const accountMail = createAccountMail({ config, mailer, tokens: oneTimeTokens });
    const record = (type: Parameters<typeof events.record>[0], userId: string, detail = {}) =>
      events.record(type, { userId, detail: { by: 'cli', ...detail } });
    const must = (user: User | undefined | 'last_admin'): User => {
      if (user === undefined) throw new Error('the user no longer exists');
      if (user === 'last_admin') {
        throw lastAdmin();
      }
      return user;
    };
    const ops: AdminOps = {
      store,
      keys,
      mailer,
      clients: createClientService({
        store,
        kek: createKek(config.kek),
        revocations,
        clock,
        production: config.nodeEnv === 'production',
        defaultTokenTtlMs: config.accessTokenTtlMs,
      }),
      async findUser(ref) {
        return ref.includes('@') ? store.getUserByEmail(ref) : store.getUserById(ref);
      },
      async setStatus(user, status) {
        const updated = must(await store.setStatus(user.id, status));
        if (status === 'disabled') await revocations.revokeAllForUser(user.id, 'user_disabled');
        await revocations.publishUser(must(await store.getUserById(user.id)));
        await record(status === 'disabled' ? 'user_disabled' : 'user_enabled', user.id);
        return updated;
      },
      async setRoles(user, roles) {
        const updated = must(await store.setRoles(user.id, roles));
        await revocations.publishUser(updated);
        await record('roles_changed', user.id, { roles: updated.roles });
        return updated;
      },
      deleteUser: (user) => deleteAccount({ store, revocations, events }, user, { by: 'cli' }),
      listSessions: (user) => store.listSessionsForUser(user.id),
      revokeSession: (id) => revocations.revokeSession(id, 'cli'),
      async revokeAllSessions(user) {
        await revocations.revokeAllForUser(user.id, 'logout_all');
        await record('logout_all', user.id);
      },
      async invite(email, roles) {
        const invitation = await store.createInvitation({
          email,
          roles,
          invitedBy: null,
          expiresAt: clock() + config.oneTimeTokenTtlMs.invitation,
        });
        await accountMail.sendInvitation(invitation);
        await mailer!.flush();
        await events.record('invitation_created', {
          detail: { by: 'cli', invitation: invitation.id, roles: invitation.roles },
        });
        return invitation;
      },
      async close() {
        await mailer?.close();
        keys?.close();
        mirror?.close();
        await redis?.quit().catch(() => undefined);
        await store.close();
      },
    };
    return ops;
  } catch (err) {
    await mailer?.close();
    keys?.close();
    mirror?.close();
    redis?.disconnect();
    await store.close();
    throw err;
  }
}
