/**
 * Account and key administration without a running server, for the `jot` CLI: the same services and the same rules
 * as the HTTP admin API (a disable or role change bumps the token version and is published to the revocation feed —
 * and to Redis when `JOT_REDIS_URL` is set —, a deletion removes the personal data, an invitation goes through the
 * outbox). Open with `openAdminOps(config)`, `close()` when done.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

import type { Clock } from './clock.js';
import { clientsFromConfig, oneTimeTokensFromConfig, revocationsFromConfig } from './compose/from-config.js';
import type { Config } from './config/index.js';
import { redactUrl } from './config/seal-config.js';
import { requireDeploymentKek } from './keys/kek-check.js';
import { createKeyManager } from './keys/key-manager.js';
import type { KeyManager, SigningKeyInfo, WithdrawnKeyInfo } from './keys/types.js';
import { deleteAccount } from './services/account-deletion.js';
import { createAccountMail } from './services/account-mail.js';
import type { ClientService } from './services/clients.js';
import { inviteAddress } from './services/invitations.js';
import { sendNewAccountVerification } from './services/new-account-verification.js';
import { rotateWithdrawingRing, withdrawSigningKey } from './services/key-withdrawal.js';
import { ioredis } from './services/lazy-ioredis.js';
import { createMailer, type Mailer } from './services/mail/mailer.js';
import { connectAnswering, redisFailure } from './services/redis-connection.js';
import { createRedisMirror, type RedisMirror } from './services/redis-mirror.js';
import type { RevocationService } from './services/revocation.js';
import { createSecurityEvents, type SecurityEvents } from './services/security-events.js';
import {
  endUserSessions,
  grantAdminRole,
  setUserRoles,
  setUserStatus,
  type AdminActor,
} from './services/user-admin.js';
import { openStore, type Invitation, type Session, type Store, type User } from './store/index.js';

/** What the CLI can do; every change is recorded as a security event with `by: 'cli'`. */
export interface AdminOps {
  readonly store: Store;
  /** A user by email or id; undefined when there is none. */
  findUser(ref: string): Promise<User | undefined>;
  setStatus(user: User, status: 'active' | 'disabled'): Promise<User>;
  /**
   * Replaces the user's roles, or (given a function) sets them from the roles read in the change's own transaction,
   * the row held: `(current) => [...current, 'admin']` adds a role without losing one another writer gave meanwhile.
   */
  setRoles(
    user: User,
    roles: readonly string[] | ((current: readonly string[]) => readonly string[]),
  ): Promise<User>;
  /**
   * Gives the user the admin role as `jot admin create` does (`grantAdminRole`, the bootstrap admin's path too): added
   * to the roles read in the change's transaction, the address the account was found by verified, recorded as
   * `roles_changed` and `admin_created` by `cli`, all committed with the feed entry. `granted: false` when the user
   * was an admin by then (nothing written).
   */
  grantAdmin(user: User): Promise<{ user: User; granted: boolean }>;
  deleteUser(user: User): Promise<void>;
  listSessions(user: User): Promise<Session[]>;
  /** Revokes one session; false when it had ended already. */
  revokeSession(sessionId: string): Promise<boolean>;
  /** Ends every session and token of the user. */
  revokeAllSessions(user: User): Promise<void>;
  /**
   * Creates an invitation and queues its message (delivered now when the mail server answers). Checks `JOT_KEK`
   * first (`requireKek`): the link is signed, and the message sealed, with keys derived from it.
   */
  invite(email: string, roles: readonly string[]): Promise<Invitation>;
  /**
   * With email verification on, queues (and delivers now when the mail server answers) the verification link of an
   * account the CLI created with an unverified address, as the admin API does; true when one was queued.
   */
  sendVerification(user: User): Promise<boolean>;
  /**
   * Refuses (`ERR_KEK_MISMATCH`) a `JOT_KEK` other than the one the stored signing keys were sealed with. Commands
   * that write what only the deployment's KEK can read (queued mail, `client_secret_jwt` secrets) call it first;
   * reading commands do not need the KEK to match.
   */
  requireKek(): Promise<void>;
  /**
   * The signing keys, loaded on first use and brought up to date with their schedule (which may create or rotate
   * a key, as a starting server would). Commands that do not ask never touch them.
   */
  keys(): Promise<KeyManager>;
  /**
   * Takes a key that does not sign now out of the JWKS at once (`ERR_KEY_ACTIVE` for the active key,
   * `ERR_NOT_FOUND` for a kid not published), recorded as `key_withdrawn` by `cli`; running servers are told.
   */
  withdrawKey(kid: string): Promise<WithdrawnKeyInfo>;
  /**
   * Creates a signing key, pre-published or (`immediate`) signing at once, recorded as `key_rotated` by `cli` as the
   * admin API records it; running servers are told.
   */
  rotateKey(options: { immediate: boolean }): Promise<SigningKeyInfo>;
  /** An immediate rotation that withdraws every older key in the same step. */
  rotateWithdrawing(): Promise<{ key: SigningKeyInfo; withdrawn: WithdrawnKeyInfo[] }>;
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
  const store = await openStore({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    postgres: { namedStatements: config.databaseNamedStatements },
  });
  let redis: Redis | undefined;
  let mirror: RedisMirror | undefined;
  let keys: Promise<KeyManager> | undefined;
  let mailer: Mailer | undefined;
  try {
    const events = createSecurityEvents(store, logger);
    const revocations = revocationsFromConfig(config, store, clock);
    if (config.redisUrl !== undefined) {
      redis = await connectAdminRedis(config.redisUrl);
      mirror = await createRedisMirror({
        redis,
        store,
        revocations,
        logger,
        namespace: config.redisNamespace,
      });
    }
    mailer = createMailer({ config, store, logger, clock });
    const services: AdminServices = { config, store, clock, events, revocations, mailer };
    const close = async (): Promise<void> => {
      await mailer?.close();
      (await keys?.catch(() => undefined))?.close();
      mirror?.close();
      await redis?.quit().catch(() => undefined);
      await store.close();
    };
    // Only the key commands load (and schedule) the signing keys: nothing else creates one.
    const keyManager = (): Promise<KeyManager> =>
      (keys ??= createKeyManager({ store, config, clock, logger }));
    return {
      store,
      keys: keyManager,
      ...keyOperations(keyManager, events),
      mailer,
      clients: clientsFromConfig(config, store, revocations, clock),
      ...userOperations(services),
      close,
    };
  } catch (err) {
    await mailer?.close();
    mirror?.close();
    redis?.disconnect();
    await store.close();
    throw err;
  }
}

/** A service the admin operations need did not answer: the server's `ERR_UNAVAILABLE` (`jot: ERR_UNAVAILABLE: …`). */
class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
  readonly code = 'ERR_UNAVAILABLE';
}

/**
 * Redis did not answer, or refused the credentials: `ERR_UNAVAILABLE`, naming the setting and the URL without its
 * credentials.
 */
function redisUnavailable(url: string, cause: unknown): UnavailableError {
  return new UnavailableError(`JOT_REDIS_URL: ${redisFailure(`Redis at ${redactUrl(url)}`, cause)}`, {
    cause,
  });
}

/**
 * The CLI's Redis client: connected and answering, or disconnected (so it stops reconnecting and the process can
 * exit) and `ERR_UNAVAILABLE` thrown. Once connected, a couple of retries per command; errors are left to the
 * commands that fail.
 */
async function connectAdminRedis(url: string): Promise<Redis> {
  const { Redis } = await ioredis.load();
  const redis = new Redis(url, {
    maxRetriesPerRequest: 2,
    connectTimeout: 3000,
    lazyConnect: true,
  });
  return connectAnswering(redis, (cause) => redisUnavailable(url, cause));
}

/** Who the CLI's changes are recorded as. */
const CLI_ACTOR: AdminActor = { by: 'cli', ip: null };

/** The changes to the signing keys, each recorded with `by: 'cli'` as the admin API records them. */
function keyOperations(
  keyManager: () => Promise<KeyManager>,
  events: SecurityEvents,
): Pick<AdminOps, 'withdrawKey' | 'rotateKey' | 'rotateWithdrawing'> {
  return {
    withdrawKey: async (kid) => withdrawSigningKey({ keys: await keyManager(), events }, kid, CLI_ACTOR),
    rotateKey: async ({ immediate }) => {
      const info = await (await keyManager()).rotate({ immediate });
      await events.record('key_rotated', {
        userId: null,
        ip: CLI_ACTOR.ip,
        detail: { kid: info.kid, alg: info.alg, immediate, activatesAt: info.activatesAt, by: CLI_ACTOR.by },
      });
      return info;
    },
    rotateWithdrawing: async () => rotateWithdrawingRing({ keys: await keyManager(), events }, CLI_ACTOR),
  };
}

/** What the user operations work with. */
interface AdminServices {
  config: Config;
  store: Store;
  clock: Clock;
  events: SecurityEvents;
  revocations: RevocationService;
  mailer: Mailer;
}

type UserOperations = Omit<
  AdminOps,
  'store' | 'keys' | 'withdrawKey' | 'rotateKey' | 'rotateWithdrawing' | 'mailer' | 'clients' | 'close'
>;

/** The operations on users, their sessions and invitations, each recorded with `by: 'cli'`. */
function userOperations(services: AdminServices): UserOperations {
  const { config, store, clock, events, revocations, mailer } = services;
  const accountMail = createAccountMail({
    config,
    mailer,
    tokens: oneTimeTokensFromConfig(config, store, clock),
  });
  return {
    async findUser(ref) {
      return ref.includes('@') ? store.getUserByEmail(ref) : store.getUserById(ref);
    },
    // The admin API's own services: the change and its revocation-feed entry commit together, and the same events
    // are recorded (`roles_changed` with the roles before, `admin_created` when admin is granted).
    setStatus: (user, status) => setUserStatus({ store, revocations, events }, user.id, status, CLI_ACTOR),
    setRoles: (user, roles) =>
      setUserRoles(
        { store, revocations, events },
        user.id,
        typeof roles === 'function' ? roles : [...roles],
        CLI_ACTOR,
      ),
    grantAdmin: (user) =>
      grantAdminRole({ store, revocations, events }, user.id, CLI_ACTOR, {
        via: 'roles',
        verifyEmail: user.email,
      }),
    deleteUser: (user) => deleteAccount({ store, revocations, events }, user, { by: 'cli' }),
    listSessions: (user) => store.listSessionsForUser(user.id),
    revokeSession: (id) => revocations.revokeSession(id, 'cli'),
    // The admin API's own service (`DELETE /api/admin/users/:id/sessions`): the user's "sign out everywhere".
    async revokeAllSessions(user) {
      await endUserSessions({ store, revocations, events }, user.id, CLI_ACTOR);
    },
    requireKek: () => requireDeploymentKek(store, config.kek),
    async invite(email, roles) {
      await requireDeploymentKek(store, config.kek);
      const invitation = await inviteAddress(
        { store, clock, config, accountMail, events },
        { email, roles },
        { userId: null, ip: null, detail: { by: 'cli' } },
      );
      await mailer.flush();
      return invitation;
    },
    async sendVerification(user) {
      const sent = await sendNewAccountVerification({ config, accountMail }, user);
      if (sent) await mailer.flush();
      return sent;
    },
  };
}
