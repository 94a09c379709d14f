/**
 * The store contract: every persistent operation the server performs, with its atomicity stated.
 * One implementation over Kysely serves SQLite and Postgres; the queries live in one file per table
 * (users.ts, sessions.ts, …) and this class adds the clock, error translation and the docs.
 *
 * Unless stated otherwise a method is a single SQL statement (atomic on its own). Times are epoch ms;
 * an optional `now` argument overrides the store's clock for that call.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { ChangeHandlers, ChangeListener } from './change-listener.js';
import * as cluster from './cluster.js';
import type { ClusterStateName } from './cluster.js';
import { StoreError } from './errors.js';
import * as clients from './clients.js';
import type { NewOAuthClient, OAuthClient, OAuthClientPatch } from './clients.js';
import * as dpopProofs from './dpop-proofs.js';
import * as events from './events.js';
import * as firstAdmin from './first-admin.js';
import type { NewSecurityEvent, SecurityEvent, SecurityEventQuery } from './events.js';
import * as keys from './keys.js';
import { createMfaStore, type MfaStore } from './mfa-store.js';
import type { NewSigningKey, SigningKeyPatch, SigningKeyRecord } from './keys.js';
import type { FeedCursor } from './feed-cursor.js';
import * as invitations from './invitations.js';
import * as joined from './joined.js';
import type { AuthState, RefreshState } from './joined.js';
import type { Invitation, NewInvitation } from './invitations.js';
import * as throttles from './login-throttles.js';
import type { LockSchedule, LoginAttemptCount, LoginReservation, LoginThrottle } from './login-throttles.js';
import * as sessionStart from './session-start.js';
import * as ott from './one-time-tokens.js';
import * as outbox from './outbox.js';
import { outboxAddress, type NewOutboxMessage, type OutboxMessage, type OutboxQuery } from './outbox.js';
import type { NewOneTimeToken, OneTimeToken } from './one-time-tokens.js';
import * as refresh from './refresh-tokens.js';
import type {
  NewRefreshToken,
  RefreshToken,
  RefreshTokenSuccessor,
  RotateOptions,
  RotateResult,
} from './refresh-tokens.js';
import * as revocations from './revocations.js';
import type { NewRevocation, Revocation, RevocationPage } from './revocations.js';
import type { DialectName, Schema } from './schema.js';
import * as sessions from './sessions.js';
import * as sessionPruning from './session-pruning.js';
import * as refreshPruning from './refresh-token-pruning.js';
import type { EndedSessionsPruned } from './session-pruning.js';
import * as signInRead from './sign-in-read.js';
import type { SignInState, UserForSession } from './sign-in-read.js';
import * as renewals from './token-renewals.js';
import type { NewTokenRenewal, TokenRenewal } from './token-renewals.js';
import type { NewSession, Session } from './sessions.js';
import { inTransaction } from './transaction.js';
import { displayEmail, emailKey, emailKeyOf } from './email.js';
import { translateError } from './translate-error.js';
import * as users from './users.js';
import type { NewUser, User, UserChange, UserQuery, UserStatus } from './users.js';

/**
 * Where a PostgreSQL store's change notifications go (absent on SQLite, which has no LISTEN), and how to follow them:
 * `listen` is change-listener.ts's, handed in by `openStore` so that pg is loaded only for PostgreSQL.
 */
export interface StoreChanges {
  readonly channel: string;
  listen(handlers: ChangeHandlers): ChangeListener;
}

function assertPageSize(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('limit must be a positive integer');
}

/** Persistent state of the auth server. Obtain one with `openStore()`; call `close()` when done. */
export class Store {
  /** Which database is underneath. */
  readonly dialect: DialectName;
  readonly #db: Kysely<Schema>;
  readonly #clock: () => number;
  readonly #changes: StoreChanges | undefined;
  /** Inside a transaction: what runs once it commits (shared by the transactions that join it). */
  readonly #onCommit: (() => void)[] | undefined;
  #closed = false;
  #mfa: MfaStore | undefined;

  /** @internal Use `openStore()`, which also runs the migrations. */
  constructor(
    db: Kysely<Schema>,
    dialect: DialectName,
    clock: () => number = Date.now,
    changes?: StoreChanges,
    onCommit?: (() => void)[],
  ) {
    this.#db = db;
    this.dialect = dialect;
    this.#clock = clock;
    this.#changes = changes;
    this.#onCommit = onCommit;
  }

  // ── transactions, locks and change notifications ────────────────────────────────────────────

  /**
   * Runs `work` in one transaction: every call it makes on the `tx` store it is given commits together or not at
   * all (a connection lost midway rolls all of it back). Inside a transaction it joins the outer one.
   */
  async transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    // A transaction that joins an outer one leaves its commit callbacks to the outer one.
    const onCommit = this.#onCommit ?? [];
    const result = await this.#run((db) =>
      inTransaction(db, (trx) => work(new Store(trx, this.dialect, this.#clock, this.#changes, onCommit))),
    );
    if (this.#onCommit === undefined) for (const callback of onCommit) callback();
    return result;
  }

  /**
   * Runs `callback` once what this store has written is committed: at once outside a transaction, after the commit
   * inside one, and never when it rolls back. For effects outside the database (log lines) that must not report a
   * change that did not happen. `callback` must not throw.
   */
  afterCommit(callback: () => void): void {
    if (this.#onCommit === undefined) callback();
    else this.#onCommit.push(callback);
  }

  /**
   * Runs `work` in a transaction that first takes the named database lock, so across every instance only one runs
   * such work at a time and each sees what the previous one committed. On PostgreSQL the wait for the lock is
   * bounded (`ERR_STORE_UNAVAILABLE` after `LOCK_WAIT_LIMIT`), and a holder idle in its transaction for longer than
   * `LOCK_IDLE_LIMIT` loses its session, and the lock with it.
   */
  withLock<T>(name: ClusterStateName, work: (tx: Store) => Promise<T>): Promise<T> {
    return this.transaction(async (tx) => {
      await tx.#run((db) => cluster.takeLock(db, this.dialect, name));
      return work(tx);
    });
  }

  /**
   * Tells every instance listening (`listenForChanges`) that something changed — on commit, inside a transaction.
   * PostgreSQL only; a no-op on SQLite.
   */
  notifyChange(payload: string): Promise<void> {
    const channel = this.#changes?.channel;
    if (channel === undefined) return Promise.resolve();
    return this.#run((db) => cluster.notify(db, this.dialect, channel, payload));
  }

  /**
   * Follows other instances' changes (PostgreSQL LISTEN on a dedicated connection that reconnects by itself).
   * Undefined on SQLite, where instances must poll.
   */
  listenForChanges(handlers: ChangeHandlers): ChangeListener | undefined {
    const changes = this.#changes;
    if (changes === undefined || this.#closed) return undefined;
    return changes.listen(handlers);
  }

  /** A shared cursor's value (0 before first use). */
  getClusterValue(name: ClusterStateName): Promise<number> {
    return this.#run((db) => cluster.getValue(db, name));
  }

  /** Raises a shared cursor to `value` unless it is already higher; returns the stored value. */
  advanceClusterValue(name: ClusterStateName, value: number): Promise<number> {
    return this.#run((db) => cluster.advanceValue(db, name, value));
  }

  /**
   * Sets a shared cursor to `value`, also back: for a cursor found ahead of the store it follows (the database was
   * reset or restored behind it).
   */
  async resetClusterValue(name: ClusterStateName, value: number): Promise<void> {
    await this.#run((db) =>
      db.updateTable('cluster_state').set({ value }).where('name', '=', name).execute(),
    );
  }

  async #run<T>(op: (db: Kysely<Schema>) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreError('ERR_STORE_CLOSED', 'the store is closed');
    try {
      return await op(this.#db);
    } catch (err) {
      throw translateError(err);
    }
  }

  /** MFA factors, recovery codes, MFA tokens, WebAuthn challenges and theft-signal facts (see mfa-store.ts). */
  get mfa(): MfaStore {
    this.#mfa ??= createMfaStore((op) => this.#run(op), this.#clock);
    return this.#mfa;
  }

  /** Readiness probe: resolves when the database answers `SELECT 1`, else rejects with `ERR_STORE_UNAVAILABLE`. */
  async ping(): Promise<void> {
    await this.#run((db) => sql`SELECT 1`.execute(db));
  }

  /** Closes the connection(s). Idempotent; later calls on the store reject with `ERR_STORE_CLOSED`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.destroy();
  }

  // ── users ────────────────────────────────────────────────────────────────────────────────────

  /**
   * Creates a user with a random UUID, `tokenVersion` 1, the email's display form and its comparison key
   * (see email.ts).
   * @throws {StoreError} `ERR_STORE_CONFLICT` when the email's key is taken; atomic via the unique index.
   * @throws {InvalidEmailError} for an address with invisible characters or without a valid domain.
   */
  createUser(input: NewUser, now = this.#clock()): Promise<User> {
    return this.#run((db) => users.createUser(db, input, now));
  }

  getUserById(id: string): Promise<User | undefined> {
    return this.#run((db) => users.getUserBy(db, 'id', id));
  }

  /** Looks up by the email's comparison key, so `' Ada@Example.COM.'` finds `ada@example.com`. */
  getUserByEmail(email: string): Promise<User | undefined> {
    return this.#run((db) => users.getUserBy(db, 'email', email));
  }

  /**
   * The distinct parameter parts of the stored password hashes (`$argon2id$v=19$m=…,t=…,p=…`, the PHC string up to
   * its salt), at most `limit` of them: which argon2 costs a failed sign-in may have to match (services/passwords.ts).
   */
  passwordHashParameters(limit = 64): Promise<string[]> {
    return this.#run((db) => users.passwordHashParameters(db, this.dialect, limit));
  }

  /** A page of users, oldest first (stable order: created_at, id). */
  listUsers(page: { limit: number; offset?: number }): Promise<User[]> {
    assertPageSize(page.limit);
    return this.#run((db) => users.listUsers(db, page.limit, page.offset ?? 0));
  }

  /** A page of the users whose email or name contains `q` (case-insensitive), oldest first, with the total. */
  searchUsers(query: UserQuery): Promise<{ users: User[]; total: number }> {
    assertPageSize(query.limit);
    return this.#run((db) => users.searchUsers(db, query));
  }

  /** The current emails of those of `ids` that still exist, by user id (e.g. to show events by email). */
  emailsOf(ids: readonly string[]): Promise<Map<string, string>> {
    return this.#run((db) => users.emailsOf(db, [...new Set(ids)]));
  }

  /**
   * Replaces the password hash only while the hash and the address are still `expected` (ATOMIC compare-and-set: a
   * reset link bound to the old credential and mailed to the old address can win once, and not after an email
   * change that committed meanwhile). Undefined when the user is gone or either changed meanwhile.
   */
  replacePasswordHash(
    id: string,
    expected: { passwordHash: string; email: string },
    next: string,
    now = this.#clock(),
  ): Promise<User | undefined> {
    return this.#run((db) => users.replacePasswordHash(db, id, expected, next, now));
  }

  /**
   * Holds the user's row until the transaction ends, so changes of one account made in transactions that each hold
   * it first run one after the other, across instances (`FOR NO KEY UPDATE` on PostgreSQL: inserts of rows that
   * refer to the user, such as sessions, do not wait; SQLite transactions are serial). Whether the user exists.
   */
  holdUser(id: string): Promise<boolean> {
    return this.#run((db) => users.holdUser(db, this.dialect, id));
  }

  /** Marks `email` verified for the user, only while it is still their email; undefined otherwise. */
  markEmailVerified(id: string, email: string, now = this.#clock()): Promise<User | undefined> {
    return this.#run((db) => users.markEmailVerified(db, id, email, now));
  }

  /** Sets the display name; returns the updated user, or undefined if none. */
  setName(id: string, name: string | null, now = this.#clock()): Promise<User | undefined> {
    return this.#run((db) => users.updateUser(db, id, { name }, {}, now));
  }

  /**
   * Replaces the email (normalised) and records it as verified at `now` (a change is confirmed by a link to it).
   * @throws {StoreError} `ERR_STORE_CONFLICT` when another account has it.
   */
  setVerifiedEmail(
    id: string,
    email: string,
    now = this.#clock(),
    expect?: users.EmailChangeExpectation,
  ): Promise<User | undefined> {
    return this.#run((db) =>
      users.updateUser(
        db,
        id,
        { email: displayEmail(email), email_key: emailKey(email), email_verified_at: now },
        {},
        now,
        undefined,
        expect,
      ),
    );
  }

  /**
   * Deletes a user and, by cascade, their sessions, refresh tokens and one-time tokens; returns what was deleted.
   * Refuses (`'last_admin'`) to delete the last active admin. `also` runs with the deleted user in the same
   * transaction (the revocation feed's entry for the deleted account), so the delete and it commit together.
   */
  deleteUser(
    id: string,
    also?: (tx: Store, deleted: User) => Promise<void>,
  ): Promise<User | undefined | 'last_admin'> {
    return this.transaction(async (tx) => {
      const deleted = await tx.#run((db) => users.deleteUnlessLastAdmin(db, this.dialect, id));
      if (deleted !== undefined && deleted !== 'last_admin') await also?.(tx, deleted);
      return deleted;
    });
  }

  /** Whether `id` is the only active admin (a pre-check; the write itself re-checks under lock). */
  async isLastActiveAdmin(id: string): Promise<boolean> {
    const admins = await this.#run((db) =>
      db
        .selectFrom('users')
        .select('id')
        .where('status', '=', 'active')
        .where('roles', 'like', '%"admin"%')
        .limit(2)
        .execute(),
    );
    return admins.length === 1 && admins[0]!.id === id;
  }

  /**
   * Replaces the password hash; returns the updated user, or undefined if none. Does not bump `tokenVersion`.
   * With `expect` it is a compare-and-swap: nothing changes (undefined) unless the stored hash is still `expect`, so
   * a rehash computed from an old read never overwrites a password changed since. `endSessions` also increments
   * `credentialGeneration` in the same UPDATE (a password change: every existing session ends).
   */
  updatePasswordHash(
    id: string,
    passwordHash: string,
    options: { expect?: string; endSessions?: boolean } = {},
    now = this.#clock(),
  ): Promise<User | undefined> {
    return this.#run((db) =>
      users.updateUser(
        db,
        id,
        { password_hash: passwordHash },
        { generation: options.endSessions },
        now,
        options.expect,
      ),
    );
  }

  /**
   * Sets the status and bumps `tokenVersion` in the same UPDATE (a status change is an authorization
   * change: tokens carrying the old `ver` go stale); disabling also increments `credentialGeneration`, so no session
   * of before comes back when the account is enabled again. Refuses (`'last_admin'`) to disable the last active
   * admin. Returns the updated user, or undefined if none.
   */
  async setStatus(
    id: string,
    status: UserStatus,
    now = this.#clock(),
  ): Promise<User | undefined | 'last_admin'> {
    const changed = await this.#run((db) =>
      users.updateUnlessLastAdmin(
        db,
        this.dialect,
        id,
        { status },
        { version: true, generation: status === 'disabled' },
        now,
      ),
    );
    return typeof changed === 'object' ? changed.after : changed;
  }

  /**
   * Replaces the roles and bumps `tokenVersion` in the same UPDATE (`token_version = token_version + 1`),
   * so no reader sees the new roles with the old version. Refuses (`'last_admin'`) to take `admin` from the last
   * active admin. Returns the updated user, or undefined if none.
   */
  async setRoles(
    id: string,
    roles: readonly string[],
    now = this.#clock(),
  ): Promise<User | undefined | 'last_admin'> {
    const changed = await this.changeRoles(id, roles, now);
    return typeof changed === 'object' ? changed.after : changed;
  }

  /**
   * {@link setRoles}, resolving to the user as the change found it (`before`) and left it (`after`). The user's row
   * is held from that read to the end of the transaction (`FOR UPDATE` on PostgreSQL; SQLite transactions are
   * serial): of two changes racing, the second reads what the first wrote. `roles` may be a function of the roles
   * so read (e.g. adding one role), so a change made meanwhile by another writer is kept, not overwritten; when it
   * returns undefined (the roles are already as wanted) nothing is written, the version does not move, and the
   * result says `changed: false`.
   */
  changeRoles(
    id: string,
    roles: readonly string[] | ((current: readonly string[]) => readonly string[] | undefined),
    now = this.#clock(),
  ): Promise<UserChange | undefined | 'last_admin'> {
    const patch =
      typeof roles === 'function'
        ? (before: User) => {
            const next = roles(before.roles);
            return next === undefined ? undefined : { roles: JSON.stringify(next) };
          }
        : { roles: JSON.stringify(roles) };
    return this.#run((db) =>
      users.updateUnlessLastAdmin(db, this.dialect, id, patch, { version: true }, now),
    );
  }

  /**
   * Moves `tokensValidAfter` forward to `validAfter` (epoch ms; tokens issued earlier are invalid; it never moves
   * back) and increments `credentialGeneration`, ending every session that exists now or is being created by a
   * sign-in whose password check began before. `keepSession` (the caller's own, on a password change) moves to the
   * new generation in the same transaction. The device cut-off (`devicesValidAfter`) moves to the new cut-off too,
   * unless `keepDevices`. Returns the updated user.
   */
  cutOffUser(
    id: string,
    validAfter: number,
    options: users.CutOffOptions = {},
    now = this.#clock(),
  ): Promise<User | undefined> {
    return this.#run((db) => users.cutOffUser(db, id, validAfter, now, options));
  }

  // ── sessions ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Creates a session (id defaults to a random UUID; `lastUsedAt` and `authTime` default to now).
   * @throws {StoreError} `ERR_STORE_REFERENCE` for an unknown user; `ERR_STORE_CONFLICT` for a taken id.
   */
  createSession(input: NewSession, now = this.#clock()): Promise<Session> {
    return this.#run((db) => sessions.createSession(db, input, now));
  }

  /**
   * A sign-in's session: its row, its first refresh token (with `refresh`) and the forgetting of the sign-in's
   * reserved attempt (with `forget`, as {@link forgetLoginAttempts}), committed together — one statement on
   * PostgreSQL, one transaction on SQLite (store/session-start.ts).
   */
  startSession(
    input: NewSession,
    refresh: { tokenHash: string; marker?: string | null } | undefined,
    forget: LoginReservation | undefined,
    now = this.#clock(),
  ): Promise<Session> {
    if (this.dialect === 'postgres') {
      return this.#run((db) => sessionStart.startSessionAtOnce(db, input, refresh, forget, now));
    }
    return this.transaction(async (tx) => {
      if (forget !== undefined) await tx.forgetLoginAttempts(forget.key, forget.place, forget.generation);
      const created = await tx.createSession(input, now);
      if (refresh !== undefined) {
        await tx.insertRefreshToken({ ...refresh, sessionId: created.id, generation: 1 }, now);
      }
      return created;
    });
  }

  /** The session whatever its state (revoked and expired ones included); undefined if none. */
  getSession(id: string): Promise<Session | undefined> {
    return this.#run((db) => sessions.getSession(db, id));
  }

  /** The user's live sessions (not revoked, within absolute expiry and idle timeout), most recently used first. */
  listSessionsForUser(userId: string, now = this.#clock()): Promise<Session[]> {
    return this.#run((db) => sessions.listLiveSessionsForUser(db, userId, now));
  }

  /**
   * Sets `lastUsedAt` on a session that is live at `now` and whose user is active on the session's credential
   * generation; the session as it now stands, or undefined when any of that fails (nothing changed). One statement.
   */
  touchLiveSession(id: string, now = this.#clock()): Promise<Session | undefined> {
    return this.#run((db) => sessions.touchLiveSession(db, id, now));
  }

  /**
   * What a revocation check needs about an access token: its user, its session (undefined when either is gone) and
   * whether its `jti` is revoked at `now`. One statement (a second one only when the user is gone).
   */
  authState(
    query: { jti: string; userId: string; sessionId: string },
    now = this.#clock(),
  ): Promise<AuthState> {
    return this.#run((db) => joined.authState(db, query, now));
  }

  /**
   * A refresh token with its session, the session's user, the scopes of the session's client, the session's last
   * sighting and how many of its tokens were rotated after `rotationsSince`, counted up to `rotationsAtMost` on
   * PostgreSQL (SQLite counts them all: it reads them from the index alone) (one statement); undefined for an unknown
   * hash.
   */
  getRefreshState(
    tokenHash: string,
    rotationsSince = this.#clock(),
    rotationsAtMost = Number.MAX_SAFE_INTEGER,
  ): Promise<RefreshState | undefined> {
    return this.#run((db) =>
      // SQLite counts the window's whole index range: cheaper there than the capped form (see joined.ts).
      joined.refreshState(db, tokenHash, {
        since: rotationsSince,
        atMost: rotationsAtMost,
        capped: this.dialect === 'postgres',
      }),
    );
  }

  /**
   * Sets `lastUsedAt` on a session live at `now` (its account active, its credentials unchanged); whether it did. A
   * session that ended — idle past its timeout included — is left as it is: a touch never brings one back to life.
   */
  async touchSession(id: string, now = this.#clock()): Promise<boolean> {
    return (await this.#run((db) => sessions.touchLiveSession(db, id, now))) !== undefined;
  }

  /**
   * Binds an unbound live session's refresh-token family to a DPoP key thumbprint (RFC 9449 §5); a session already
   * bound keeps its key. Resolves to the thumbprint the session is bound to now, or undefined if it is revoked.
   */
  bindSessionDPoPKey(id: string, jkt: string): Promise<string | undefined> {
    return this.#run((db) => sessions.bindSessionDPoPKey(db, id, jkt));
  }

  /**
   * Revokes a session: a conditional UPDATE (`WHERE revoked_at IS NULL`), so it is idempotent and the first
   * reason wins. Returns true only for the call that revoked it.
   */
  revokeSession(id: string, reason: string, now = this.#clock()): Promise<boolean> {
    return this.#run((db) => sessions.revokeSession(db, id, reason, now));
  }

  /**
   * Records a fresh authentication on an unrevoked session: its time and, when given, its methods (`amr`) and
   * level (`acr`); whether it changed.
   */
  setSessionAuthentication(
    id: string,
    auth: { authTime: number; amr?: readonly string[]; acr?: string },
  ): Promise<boolean> {
    return this.#run((db) =>
      sessions.updateUnrevokedSession(db, id, {
        auth_time: auth.authTime,
        ...(auth.amr === undefined ? {} : { amr: JSON.stringify(auth.amr) }),
        ...(auth.acr === undefined ? {} : { acr: auth.acr }),
      }),
    );
  }

  // ── refresh tokens ───────────────────────────────────────────────────────────────────────────

  /**
   * Stores a refresh token by its hash (the first of a family, or one issued outside rotation).
   * @throws {StoreError} `ERR_STORE_CONFLICT` for a duplicate hash; `ERR_STORE_REFERENCE` for an unknown session.
   */
  insertRefreshToken(input: NewRefreshToken, now = this.#clock()): Promise<RefreshToken> {
    return this.#run((db) => refresh.insertRefreshToken(db, input, now));
  }

  /** The token record by hash, rotated or not; undefined if none. */
  getRefreshToken(tokenHash: string): Promise<RefreshToken | undefined> {
    return this.#run((db) => refresh.getRefreshToken(db, tokenHash));
  }

  /**
   * The ids of the sessions whose refresh-token rows carry the session marker `marker` (version-2 tokens), at most
   * two: exactly one names the session; two mean the marker is ambiguous.
   */
  sessionsWithRefreshMarker(marker: string): Promise<string[]> {
    return this.#run((db) => refresh.sessionsWithRefreshMarker(db, marker));
  }

  /**
   * Rotates a refresh token. ATOMIC, in one transaction: a conditional
   * `UPDATE … SET rotated_at, successor_hash, successor_ciphertext WHERE token_hash = ? AND rotated_at IS NULL`
   * and, if it matched, the INSERT of the successor (same session). Of any number of concurrent callers
   * exactly one gets `rotated`; the others get `already_rotated` with the row as the winner left it, to apply
   * the grace-window rule (hand out the same successor, or treat it as reuse). With `options.touchSession` it first
   * does `touchLiveSession` on that session in the same transaction and, if the session is not live (or its user
   * not active on its generation), rotates nothing and answers `session_ended`; without, it does not check the
   * session. With `options.sighting` too, a touch that matched also records where the session is used now (as
   * `mfa.recordSighting` does), in the same statement or transaction: whenever the answer is not `session_ended`.
   */
  rotateRefreshToken(
    oldHash: string,
    successor: RefreshTokenSuccessor,
    now = this.#clock(),
    options: RotateOptions = {},
  ): Promise<RotateResult> {
    const { touchSession, sighting } = options;
    // PostgreSQL does it in one statement (no BEGIN/COMMIT round trips); SQLite, in-process, in a transaction.
    if (this.dialect === 'postgres' && touchSession !== undefined) {
      return this.#run((db) =>
        refresh.rotateRefreshTokenAtOnce(db, oldHash, successor, now, touchSession, sighting),
      );
    }
    return this.#run((db) => refresh.rotateRefreshToken(db, oldHash, successor, now, options));
  }

  /**
   * When the session's rotations after `since` drop below `limit`: the rotation time of its `limit`th newest one
   * (that many must leave the window first); undefined when it has fewer than `limit`. Reads the
   * (session_id, rotated_at) index (migration 0011), newest first, `limit` entries at most.
   */
  nthNewestRotation(sessionId: string, since: number, limit: number): Promise<number | undefined> {
    return this.#run((db) => refresh.nthNewestRotation(db, sessionId, since, limit));
  }

  /** Deletes every refresh token of a session (e.g. after revoking it); returns how many. */
  deleteRefreshTokensForSession(sessionId: string): Promise<number> {
    return this.#run((db) => refresh.deleteRefreshTokensForSession(db, sessionId));
  }

  /**
   * One batch of the sweep of sessions that ended (were revoked, passed their absolute expiry or went unused past
   * their idle timeout) more than `retentionMs` before `now`: up to `limit` of their refresh tokens, then up to `limit`
   * of them that have no refresh token left, oldest end first (see session-pruning.ts). Not one transaction: each
   * statement commits alone, and on PostgreSQL skips rows another sweep holds, so it is safe on every instance at once.
   */
  pruneEndedSessions(retentionMs: number, limit: number, now = this.#clock()): Promise<EndedSessionsPruned> {
    return this.#run((db) => sessionPruning.pruneEndedSessions(db, this.dialect, now - retentionMs, limit));
  }

  /**
   * Deletes up to `limit` rows of rotated refresh tokens that carry a session marker (version 2) and were rotated more
   * than `keepMs` ago, oldest first (see refresh-token-pruning.ts); resolves to the rows deleted. Never a current
   * token, never a row without a marker. One statement; on PostgreSQL it skips rows another sweep holds.
   */
  pruneRotatedRefreshTokens(keepMs: number, limit: number, now = this.#clock()): Promise<number> {
    return this.#run((db) => refreshPruning.pruneRotatedRefreshTokens(db, this.dialect, now - keepMs, limit));
  }

  // ── revocations ──────────────────────────────────────────────────────────────────────────────

  /**
   * Appends a feed entry and returns it with its cursor id. Inserts are serialised (in Postgres by a table
   * lock inside the insert's transaction) so ids become visible in order and no reader's cursor skips one.
   */
  addRevocation(input: NewRevocation, now = this.#clock()): Promise<Revocation> {
    return this.#run((db) =>
      revocations.addRevocation(db, this.dialect, input, now, (trx, entry) =>
        this.#changes === undefined
          ? Promise.resolve()
          : cluster.notify(trx, this.dialect, this.#changes.channel, `revocation:${entry.id}`),
      ),
    );
  }

  /**
   * The unexpired entries after `cursor`, at most `limit`, in cursor order. Without a cursor (or with one
   * beyond every id the store ever handed out, as after a database reset or restore, or one whose tag or creation
   * time differs from the entry stored under its id, or whose pruned entry is much younger than the entry stored below
   * it, as after a restore that handed the id out again: `feed-cursor.ts`) it is a snapshot of all unexpired entries
   * (`snapshot: true`); a cursor past entries that were since pruned is not. The returned `cursor` (with `cursorTag`
   * and `cursorCreatedAt`) is the newest entry's id (or the given cursor, if higher), or the last entry's id when
   * `hasMore`. High-water mark first, so nothing inserted meanwhile is skipped.
   */
  listRevocationsSince(
    cursor: number | FeedCursor | undefined,
    limit: number,
    now = this.#clock(),
  ): Promise<RevocationPage> {
    assertPageSize(limit);
    return this.#run((db) => revocations.listRevocationsSince(db, this.dialect, cursor, limit, now));
  }

  /** Whether an unexpired `jti` entry exists for this token id. */
  isJtiRevoked(jti: string, now = this.#clock()): Promise<boolean> {
    return this.#run((db) => revocations.isJtiRevoked(db, jti, now));
  }

  /** Deletes entries with `expiresAt <= now`; returns how many. Ids are never reused, so cursors stay valid. */
  pruneExpiredRevocations(now = this.#clock()): Promise<number> {
    return this.#run((db) => revocations.pruneExpiredRevocations(db, now));
  }

  // ── signing keys ─────────────────────────────────────────────────────────────────────────────

  /**
   * Stores a signing key (`activatesAt` defaults to now).
   * @throws {StoreError} `ERR_STORE_CONFLICT` for a duplicate kid.
   */
  insertSigningKey(input: NewSigningKey, now = this.#clock()): Promise<SigningKeyRecord> {
    return this.#run((db) => keys.insertSigningKey(db, input, now));
  }

  /** All stored keys, by `activatesAt` then kid. */
  listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.#run((db) => keys.listSigningKeys(db));
  }

  /** Updates `activatesAt` / `retiredAt` / `expiresAt`; returns the key as updated, or undefined if none. */
  updateSigningKey(kid: string, patch: SigningKeyPatch): Promise<SigningKeyRecord | undefined> {
    return this.#run((db) => keys.updateSigningKey(db, kid, patch));
  }

  /** Deletes keys whose `expiresAt <= now`; returns their kids (sorted). */
  deleteExpiredKeys(now = this.#clock()): Promise<string[]> {
    return this.#run((db) => keys.deleteExpiredKeys(db, now));
  }

  // ── security events ──────────────────────────────────────────────────────────────────────────

  /** Appends a security event. */
  addSecurityEvent(input: NewSecurityEvent, now = this.#clock()): Promise<SecurityEvent> {
    return this.#run((db) => events.addSecurityEvent(db, input, now));
  }

  /** Appends a security event and reads nothing back (what `SecurityEvents.record` needs, on every sign-in). */
  insertSecurityEvent(input: NewSecurityEvent, now = this.#clock()): Promise<void> {
    return this.#run((db) => events.insertSecurityEvent(db, input, now));
  }

  /**
   * Appends a security event about a session once: nothing (undefined) when the session no longer exists, was
   * revoked for the event's own type (`revokedReason === type`: whoever revoked it records it), or has an event of
   * that type already. Of concurrent callers one appends: the session's row is held for the check and the append.
   */
  addSessionEventOnce(
    input: NewSecurityEvent & { userId: string; sessionId: string },
    now = this.#clock(),
  ): Promise<SecurityEvent | undefined> {
    return this.#run((db) => events.addSessionEventOnce(db, input, now));
  }

  /**
   * Appends a security event about a user who still exists: the user's row is held for the check and the append (a
   * no-op UPDATE: a row lock on PostgreSQL, the write lock on SQLite), so a deletion of the account either committed
   * first — nothing is appended (undefined) — or comes after, and scrubs the event with the account's others. Inside
   * a transaction that changed the user it joins that transaction.
   */
  addUserEvent(
    input: NewSecurityEvent & { userId: string },
    now = this.#clock(),
  ): Promise<SecurityEvent | undefined> {
    return this.#run((db) => events.addUserEvent(db, input, now));
  }

  /** Drops the IP addresses and details recorded with a user's events (their account is being deleted); returns how many. */
  scrubSecurityEvents(userId: string): Promise<number> {
    return this.#run((db) => events.scrubSecurityEvents(db, userId));
  }

  /** Events newest first, optionally for one user or type; page with `before` = the last id seen. */
  listSecurityEvents(query: SecurityEventQuery): Promise<SecurityEvent[]> {
    assertPageSize(query.limit);
    return this.#run((db) => events.listSecurityEvents(db, query));
  }

  // ── DPoP proofs ──────────────────────────────────────────────────────────────────────────────

  /**
   * Remembers a DPoP proof key (`<jkt>:<jti>`) until `expiresAt`; true when it was new, false for a replay.
   * Atomic: one insert that does nothing on a primary-key conflict, so exactly one of N instances wins.
   */
  claimDPoPProof(key: string, expiresAt: number): Promise<boolean> {
    return this.#run((db) => dpopProofs.claimDPoPProof(db, key, expiresAt));
  }

  /** Deletes remembered proofs past their expiry; returns how many. */
  pruneDPoPProofs(now = this.#clock()): Promise<number> {
    return this.#run((db) => dpopProofs.pruneDPoPProofs(db, now));
  }

  // ── single-token renewals ────────────────────────────────────────────────────────────────────

  /**
   * Claims the renewal of an access token, storing its sealed successor. ATOMIC: `INSERT … ON CONFLICT DO NOTHING
   * RETURNING`, so of any number of concurrent callers on any number of instances exactly one gets `true`; the
   * others read the winner's row with {@link getTokenRenewal}.
   * @throws {StoreError} `ERR_STORE_REFERENCE` for an unknown session.
   */
  claimTokenRenewal(input: NewTokenRenewal, now = this.#clock()): Promise<boolean> {
    return this.#run((db) => renewals.claimTokenRenewal(db, input, now));
  }

  /** The renewal of a token (by the hash of `renew:<jti>`), if it was renewed and not yet pruned. */
  getTokenRenewal(tokenHash: string): Promise<TokenRenewal | undefined> {
    return this.#run((db) => renewals.getTokenRenewal(db, tokenHash));
  }

  /** Deletes renewals whose renewed token has expired; returns how many. */
  pruneTokenRenewals(now = this.#clock()): Promise<number> {
    return this.#run((db) => renewals.pruneTokenRenewals(db, now));
  }

  // ── one-time tokens ──────────────────────────────────────────────────────────────────────────

  /**
   * Stores a one-time token by its hash.
   * @throws {StoreError} `ERR_STORE_CONFLICT` for a duplicate hash; `ERR_STORE_REFERENCE` for an unknown user.
   */
  insertOneTimeToken(input: NewOneTimeToken, now = this.#clock()): Promise<OneTimeToken> {
    return this.#run((db) => ott.insertOneTimeToken(db, input, now));
  }

  /**
   * Consumes a token. ATOMIC: `UPDATE … SET consumed_at = now WHERE token_hash = ? AND purpose = ?
   * AND consumed_at IS NULL AND expires_at > now RETURNING *`, so of concurrent callers at most one gets the
   * record; everyone else (and any later, expired or wrong-purpose use) gets undefined.
   */
  consumeOneTimeToken(
    tokenHash: string,
    purpose: string,
    now = this.#clock(),
  ): Promise<OneTimeToken | undefined> {
    return this.#run((db) => ott.consumeOneTimeToken(db, tokenHash, purpose, now));
  }

  /**
   * The token, if it is unused and unexpired for `purpose` (what `consumeOneTimeToken` would take now), without
   * spending it. A read only: a concurrent consumer may still take it first.
   */
  findUnusedOneTimeToken(
    tokenHash: string,
    purpose: string,
    now = this.#clock(),
  ): Promise<OneTimeToken | undefined> {
    return this.#run((db) => ott.findUnusedOneTimeToken(db, tokenHash, purpose, now));
  }

  /**
   * Voids every unused one-time token of `userId` with one of `purposes` (marks it used). ATOMIC per token, like
   * `consumeOneTimeToken` (`UPDATE … SET consumed_at = now WHERE user_id = ? AND purpose IN (…) AND consumed_at IS
   * NULL`): a token consumed concurrently is either consumed there first (and left alone here) or found used there.
   * Run it in the transaction of the change that outdates the tokens, so they die exactly when it commits.
   */
  voidOneTimeTokens(userId: string, purposes: readonly string[], now = this.#clock()): Promise<number> {
    return this.#run((db) => ott.voidOneTimeTokens(db, userId, purposes, now));
  }

  /**
   * Claims the first-registrant admin grant for `userId` (see first-admin.ts): true, the claim written, when no
   * account claimed it before and `userId` is the oldest account. Call it first in the transaction that grants the
   * role: it queues that transaction behind any other claim, across instances (an advisory lock on PostgreSQL, the
   * write lock on SQLite), so of simultaneous first registrations exactly one claims it, and the claim commits or
   * rolls back with the grant.
   */
  claimFirstAdmin(userId: string, now = this.#clock()): Promise<boolean> {
    return this.#run((db) => firstAdmin.claimFirstAdmin(db, this.dialect, userId, now));
  }

  // ── mail outbox ──────────────────────────────────────────────────────────────────────────────

  /**
   * Queues a message unless one with the same idempotency key exists (`INSERT … ON CONFLICT DO NOTHING`): returns
   * the row that holds the key and whether this call created it.
   */
  enqueueMail(
    input: NewOutboxMessage,
    now = this.#clock(),
  ): Promise<{ message: OutboxMessage; created: boolean }> {
    return this.#run((db) => outbox.enqueueMail(db, input, now));
  }

  /**
   * Leases up to `limit` due messages to `owner` for `leaseMs`, counting an attempt on each. ATOMIC: one UPDATE
   * whose WHERE re-checks status, due time and lease, so concurrent senders (any instance) never share a row.
   */
  claimDueMail(owner: string, limit: number, leaseMs: number, now = this.#clock()): Promise<OutboxMessage[]> {
    assertPageSize(limit);
    return this.#run((db) => outbox.claimDueMail(db, this.dialect, owner, limit, leaseMs, now));
  }

  /**
   * Extends `owner`'s lease on a message for `leaseMs` from now, before delivering it; false when the row is no
   * longer `owner`'s (another sender claimed it after the lease ran out, or it was settled): then it must not be
   * sent. ATOMIC: one conditional UPDATE, which a concurrent claim cannot interleave with.
   */
  renewMailLease(id: string, owner: string, leaseMs: number, now = this.#clock()): Promise<boolean> {
    return this.#run((db) => outbox.renewMailLease(db, id, owner, leaseMs, now));
  }

  /** Marks a message `owner` holds as sent and empties its payload; false when the lease was lost. */
  markMailSent(id: string, owner: string, now = this.#clock()): Promise<boolean> {
    return this.#run((db) => outbox.markMailSent(db, id, owner, now));
  }

  /** Releases a message `owner` holds after a failed attempt; false when the lease was lost. */
  markMailFailed(
    id: string,
    owner: string,
    failure: { error: string; retryAt: number; giveUp: boolean },
  ): Promise<boolean> {
    return this.#run((db) => outbox.markMailFailed(db, id, owner, failure));
  }

  /**
   * Makes the given unsent messages (or, with no ids, every failed one) due now; returns how many. A live lease is
   * kept, so a message being delivered right now is not handed to a second sender.
   */
  retryMail(ids: readonly string[] = [], now = this.#clock()): Promise<number> {
    return this.#run((db) => outbox.retryMail(db, ids, now));
  }

  /** Messages newest first. */
  listOutbox(query: OutboxQuery): Promise<OutboxMessage[]> {
    assertPageSize(query.limit);
    return this.#run((db) => outbox.listOutbox(db, query));
  }

  /**
   * Deletes every message about an account: those carrying its id (whatever address they went to: a former one, a
   * pending new one) and those without an account to its address, as the mailer stores it or as its comparison key
   * (rows queued before migration 0012, an invitation); returns how many.
   */
  deleteMailOf(user: Pick<User, 'id' | 'email'>): Promise<number> {
    const addresses = new Set([outboxAddress(user.email)]);
    const key = emailKeyOf(user.email);
    if (key !== undefined) addresses.add(key);
    return this.#run((db) => outbox.deleteMailOf(db, user.id, [...addresses]));
  }

  // ── invitations ──────────────────────────────────────────────────────────────────────────────

  /**
   * Stores an invitation (email normalised); it replaces (revokes) the address's open one, in the same transaction.
   * Creations for one address queue behind each other (on PostgreSQL a transaction lock per address; SQLite
   * transactions are serial), so each replaces the one before, whichever instance makes it; the schema holds one
   * open invitation per address (migration 0016). Accepts queue with them: an address whose account an accepted
   * invitation created meanwhile is refused with `ERR_STORE_CONFLICT`.
   */
  createInvitation(input: NewInvitation, now = this.#clock()): Promise<Invitation> {
    return this.#run((db) =>
      inTransaction(db, async (trx) => {
        await invitations.queueForAddress(trx, this.dialect, input.email);
        if ((await users.getUserBy(trx, 'email', input.email)) !== undefined) {
          throw new StoreError('ERR_STORE_CONFLICT', 'an account has this address');
        }
        await invitations.revokeOpenInvitationsFor(trx, input.email, now);
        return invitations.createInvitation(trx, input, now);
      }),
    );
  }

  getInvitation(id: string): Promise<Invitation | undefined> {
    return this.#run((db) => invitations.getInvitation(db, id));
  }

  /** Invitations neither accepted, revoked nor expired, newest first. */
  listOpenInvitations(limit: number, now = this.#clock()): Promise<Invitation[]> {
    assertPageSize(limit);
    return this.#run((db) => invitations.listOpenInvitations(db, now, limit));
  }

  /** Deletes every invitation of an address; returns how many. */
  deleteInvitationsFor(email: string): Promise<number> {
    return this.#run((db) => invitations.deleteInvitationsFor(db, email));
  }

  /** Revokes an invitation not yet accepted; undefined when there is none such. */
  revokeInvitation(id: string, now = this.#clock()): Promise<Invitation | undefined> {
    return this.#run((db) => invitations.revokeInvitation(db, id, now));
  }

  /**
   * Accepts an open invitation and creates its account (the invitation's email and roles, email verified), in ONE
   * transaction: of concurrent accepts one creates the account; if the address was taken meanwhile nothing changes
   * and `ERR_STORE_CONFLICT` is thrown. Undefined when the invitation is not open.
   */
  acceptInvitation(
    id: string,
    account: { passwordHash: string; name: string | null },
    now = this.#clock(),
  ): Promise<{ invitation: Invitation; user: User } | undefined> {
    return this.#run((db) =>
      inTransaction(db, async (trx) => {
        // Queued with the creations for the address: one made meanwhile is either seen (and ended) or refused.
        const found = await invitations.getInvitation(trx, id);
        if (found === undefined) return undefined;
        await invitations.queueForAddress(trx, this.dialect, found.email);
        const invitation = await invitations.acceptInvitation(trx, id, now);
        if (invitation === undefined) return undefined;
        const user = await users.createUser(
          trx,
          { ...account, email: invitation.email, roles: invitation.roles, emailVerifiedAt: now },
          now,
        );
        // The address has its account: its other open invitations end with the same commit.
        await invitations.revokeOpenInvitationsFor(trx, invitation.email, now, invitation.id);
        return { invitation, user };
      }),
    );
  }

  // ── OAuth clients ────────────────────────────────────────────────────────────────────────────

  /**
   * Registers a client.
   * @throws {StoreError} `ERR_STORE_CONFLICT` when the client_id is taken (atomic via the primary key).
   */
  async createClient(input: NewOAuthClient, now = this.#clock()): Promise<OAuthClient> {
    const client = await this.#run((db) => clients.createClient(db, input, now));
    if (client === undefined) throw new StoreError('ERR_STORE_CONFLICT', 'the client_id is taken');
    return client;
  }

  /** Registers a client unless one with its id exists (`INSERT … ON CONFLICT DO NOTHING`); whether it inserted. */
  async ensureClient(input: NewOAuthClient, now = this.#clock()): Promise<boolean> {
    return (await this.#run((db) => clients.createClient(db, input, now, { ifAbsent: true }))) !== undefined;
  }

  getClient(clientId: string): Promise<OAuthClient | undefined> {
    return this.#run((db) => clients.getClient(db, clientId));
  }

  /** Every client, oldest first. */
  listClients(): Promise<OAuthClient[]> {
    return this.#run((db) => clients.listClients(db));
  }

  /** Updates a client; returns it as updated, or undefined if none. */
  updateClient(
    clientId: string,
    patch: OAuthClientPatch,
    now = this.#clock(),
  ): Promise<OAuthClient | undefined> {
    return this.#run((db) => clients.updateClient(db, clientId, patch, now));
  }

  /** The longest per-client access-token lifetime registered, in ms (0 when no client sets one). */
  longestClientTokenTtlMs(): Promise<number> {
    return this.#run((db) => clients.longestTokenTtlMs(db));
  }

  /** Deletes a client (never the first-party one); whether it deleted. */
  deleteClient(clientId: string): Promise<boolean> {
    return this.#run((db) => clients.deleteClient(db, clientId));
  }

  /**
   * Records a client-assertion id as used until `expiresAt`. ATOMIC: `INSERT … ON CONFLICT DO NOTHING RETURNING`,
   * so of any number of concurrent callers on any number of instances exactly one gets `true`; a replay gets
   * `false`.
   */
  recordAssertionJti(jtiHash: string, clientId: string, expiresAt: number): Promise<boolean> {
    return this.#run((db) => clients.recordAssertionJti(db, jtiHash, clientId, expiresAt));
  }

  /** Drops assertion ids whose assertion has expired; returns how many. */
  pruneAssertionJtis(now = this.#clock()): Promise<number> {
    return this.#run((db) => clients.pruneAssertionJtis(db, now));
  }

  /** Deletes one-time tokens that expired before `now` (consumed or not); returns how many. */
  pruneExpiredOneTimeTokens(now = this.#clock()): Promise<number> {
    return this.#run((db) => ott.pruneExpiredOneTimeTokens(db, now));
  }

  // ── login throttles ──────────────────────────────────────────────────────────────────────────

  /** The failed-sign-in state of an account key; undefined when it has none. */
  getLoginThrottle(accountKey: string): Promise<LoginThrottle | undefined> {
    return this.#run((db) => throttles.getLoginThrottle(db, accountKey));
  }

  /**
   * A sign-in's read before the password check, in one statement: the account key's throttle state, the user with
   * `email`, whether that user has a confirmed second factor, and the throttle state under each of `deviceKeys`
   * (at most `MAX_DEVICE_KEYS`: the presented device credentials') (see sign-in-read.ts).
   */
  getSignInState(accountKey: string, email: string, deviceKeys?: readonly string[]): Promise<SignInState> {
    return this.#run((db) => signInRead.getSignInState(db, accountKey, email, deviceKeys));
  }

  /**
   * The user read again after a sign-in's session was committed, with the registered scopes of the session's client
   * (undefined when there is no such client), in one statement (see sign-in-read.ts).
   */
  getUserForSession(userId: string, clientId: string): Promise<UserForSession> {
    return this.#run((db) => signInRead.getUserForSession(db, userId, clientId));
  }

  /**
   * Counts one sign-in attempt under an account (or device) key as a failure, setting the lock the new count earns,
   * in one atomic upsert; with `refuse`, a key locked at `now` is not counted (`counted: false`). See
   * login-throttles.ts.
   */
  countLoginAttempt(
    accountKey: string,
    schedule: LockSchedule,
    options: { staleBefore: number; now?: number; refuse: boolean },
  ): Promise<LoginAttemptCount> {
    const now = options.now ?? this.#clock();
    return this.#run((db) => throttles.countLoginAttempt(db, accountKey, schedule, { ...options, now }));
  }

  /**
   * Forgets the attempts counted under a key up to a successful one (its place `reserved`, in the run `generation`,
   * that {@link countLoginAttempt} returned), keeping those reserved after it — all of them, once the count has gone
   * or started over since; a key left with none has no row (login-throttles.ts: conditional statements, no failure
   * counted concurrently is lost).
   */
  forgetLoginAttempts(accountKey: string, reserved: number, generation: string): Promise<void> {
    return this.#run((db) => throttles.forgetLoginAttempts(db, accountKey, reserved, generation));
  }

  /**
   * Confirms the lock of a failed attempt counted under a key (it ends at `lockEnd`) in the run `generation`, so the
   * refusals it causes quote it in full (login-throttles.ts, `lockWaitMs`).
   */
  settleLoginAttempt(accountKey: string, generation: string, lockEnd: number): Promise<void> {
    return this.#run((db) => throttles.settleLoginAttempt(db, accountKey, generation, lockEnd));
  }

  /** Forgets an account's failures (after a successful sign-in). */
  clearLoginThrottle(accountKey: string): Promise<void> {
    return this.#run((db) => throttles.clearLoginThrottle(db, accountKey));
  }

  /** Deletes throttle rows untouched since `before` whose lock has expired; returns how many. */
  pruneLoginThrottles(before: number, now = this.#clock()): Promise<number> {
    return this.#run((db) => throttles.pruneLoginThrottles(db, before, now));
  }
}
