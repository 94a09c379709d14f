/**
 * A database restored from a backup hands lost feed ids out again; one failed over to a lagging PostgreSQL replica
 * does not (its id sequence is ahead), but lacks the same entries. The Redis mirror still holds the lost history's
 * keys — a revocation the database no longer has, a user enabled again whom the database has disabled, a user state
 * from a feed id higher than the new entries' (which monotonic writes would keep over them) — so the publisher
 * empties the namespace before its full copy, with the marker gone meanwhile, also while it runs on (no restart). Each
 * case runs on SQLite (a file copy), on PostgreSQL restored whole, and on PostgreSQL failed over. Regression: the
 * failover went unnoticed (the lost entry looked pruned), the lost history's keys stayed and the new marker vouched
 * for them. Only then: a routine first copy keeps what is there. A copy that started before the mirror
 * was emptied (a pass that lost its database lock) never writes the marker over the emptied list.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redisNames } from '@jot/contract';

import { clearMirror } from '../src/services/redis-mirror-clear.js';
import { publisherPass, type MirrorPassContext } from '../src/services/redis-mirror-pass.js';
import { deploymentId } from '../src/services/redis-mirror.js';
import { requirePostgres } from './support/postgres.js';
import { requireRedis, TEST_REDIS_URL, testRedisNamespace } from './support/redis.js';
import {
  postgresFailoverRestorable,
  postgresRestorable,
  sqliteRestorable,
  type Restorable,
} from './support/restorable-store.js';
import { silentLogger } from './support/silent-logger.js';

const available = await requireRedis('the mirror-after-restore test');
const LATER = () => Date.now() + 600_000;

/** The databases that go back (restorable-store.ts), and how. */
const backends: [string, () => Promise<Restorable>][] = [['SQLite restored from a copy', sqliteRestorable]];
const pg = available ? await requirePostgres('the mirror-after-restore test') : undefined;
if (pg !== undefined) {
  backends.push(
    ['PostgreSQL restored (sequences set back)', () => postgresRestorable(pg)],
    ['PostgreSQL failed over to a lagging replica (sequences went on)', () => postgresFailoverRestorable(pg)],
  );
}
afterAll(async () => {
  await pg?.drop();
});

describe.runIf(available).each(backends)('the Redis mirror of a database that went back: %s', (_, open) => {
  let redis: Redis;
  let db: Restorable;
  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    await redis.ping(); // connected: a pass skips a Redis that is not
  });
  afterAll(() => {
    redis.disconnect();
  });

  const instance = (client: Redis = redis): MirrorPassContext => ({
    redis: client,
    store: db.store(),
    logger: silentLogger,
    names: redisNames(testRedisNamespace(`restore-${randomUUID()}`)),
    deployment: deploymentId(randomBytes(32), 'https://auth.example.com'),
    state: { closed: false, copyNeeded: true },
  });

  it('drops the lost history’s keys and copies the restored list before vouching again', async () => {
    db = await open();
    try {
      const user = randomUUID();
      const kept = randomUUID();
      const reenabled = randomUUID();
      await db.store().addRevocation({ kind: 'jti', subject: kept, expiresAt: LATER() });
      await db.store().addRevocation({
        kind: 'user',
        subject: reenabled,
        data: { status: 'disabled', valid_after: 10, ver: 1 },
        expiresAt: LATER(),
      });
      await db.backup();
      let ctx = instance();
      const { names } = ctx;
      // The lost history: a revocation, a user enabled again (no entry after the restore says otherwise), and a
      // user's state at a high feed id.
      const lost = randomUUID();
      await db.store().addRevocation({ kind: 'jti', subject: lost, expiresAt: LATER() });
      await db.store().addRevocation({
        kind: 'user',
        subject: reenabled,
        data: { status: 'active', valid_after: 10, ver: 1 },
        expiresAt: LATER(),
      });
      for (let i = 0; i < 3; i++) {
        await db.store().addRevocation({ kind: 'sid', subject: randomUUID(), expiresAt: LATER() });
      }
      await db.store().addRevocation({
        kind: 'user',
        subject: user,
        data: { status: 'active', valid_after: 100, ver: 1 },
        expiresAt: LATER(),
      });
      expect(await publisherPass(ctx)).toBe(true);
      expect(await redis.get(names.jti(lost))).toBe('1');

      await db.restore();
      // The servers were down for the restore, longer than the marker's lease: only the mirrored cursor remains.
      await redis.del(names.complete);
      // After the restore the user is disabled: a lower feed id than the lost 'active' entry's.
      await db.store().addRevocation({
        kind: 'user',
        subject: user,
        data: { status: 'disabled', valid_after: 50, ver: 1 },
        expiresAt: LATER(),
      });
      ctx = { ...ctx, store: db.store(), state: { closed: false, copyNeeded: true } };
      expect(await publisherPass(ctx)).toBe(true);

      expect(await redis.get(names.jti(lost))).toBeNull();
      expect(await redis.get(names.jti(kept))).toBe('1');
      expect(JSON.parse((await redis.get(names.user(user))) ?? '{}')).toMatchObject({ status: 'disabled' });
      expect(JSON.parse((await redis.get(names.user(reenabled))) ?? '{}')).toMatchObject({
        status: 'disabled',
      });
      expect(await redis.get(names.complete)).not.toBeNull();

      // Vouched at the restored history's cursor: the next pass empties nothing.
      await redis.set(names.jti('unknown-to-the-database'), '1', 'PX', 60_000);
      expect(await publisherPass(ctx)).toBe(true);
      expect(await redis.get(names.jti('unknown-to-the-database'))).toBe('1');
    } finally {
      await db.done();
    }
  });

  it('notices a database that went back under a running instance, its marker still fresh', async () => {
    db = await open();
    try {
      const kept = randomUUID();
      await db.store().addRevocation({ kind: 'jti', subject: kept, expiresAt: LATER() });
      await db.backup();
      const ctx = instance();
      const { names, state } = ctx;
      const lost = randomUUID();
      await db.store().addRevocation({ kind: 'jti', subject: lost, expiresAt: LATER() });
      expect(await publisherPass(ctx)).toBe(true);
      expect(state.copyNeeded).toBe(false);

      await db.restore();
      // No restart (no copy asked for) and the marker within its lease: only the database tells.
      await redis.pexpire(names.complete, 600_000);
      const added = randomUUID();
      await db.store().addRevocation({ kind: 'jti', subject: added, expiresAt: LATER() });
      expect(await publisherPass({ ...ctx, store: db.store() })).toBe(true);

      expect(await redis.get(names.jti(lost))).toBeNull();
      expect(await redis.get(names.jti(kept))).toBe('1');
      expect(await redis.get(names.jti(added))).toBe('1');
      expect(await redis.get(names.complete)).not.toBeNull();
    } finally {
      await db.done();
    }
  });

  it('empties nothing when the vouched entry is still stored with the shared cursor behind it, or was pruned', async () => {
    db = await open();
    try {
      const store = db.store();
      await store.addRevocation({ kind: 'sid', subject: randomUUID(), expiresAt: LATER() });
      const short = await store.addRevocation({
        kind: 'jti',
        subject: randomUUID(),
        expiresAt: Date.now() + 60_000,
      });
      const ctx = instance();
      const { names } = ctx;
      expect(await publisherPass(ctx)).toBe(true);
      const unknown = names.jti('unknown-to-the-database');
      await redis.set(unknown, '1', 'PX', 60_000);

      // A pass that vouched at this entry and then failed to commit: the shared cursor stayed behind it.
      await store.resetClusterValue('redis:published', short.id - 1);
      expect(await publisherPass(ctx)).toBe(true);
      expect(await redis.get(unknown)).toBe('1');
      expect(await store.getClusterValue('redis:published')).toBe(short.id);

      // The entry vouched at expires and is pruned: the shared cursor is at it, nothing went back.
      expect(await store.pruneExpiredRevocations(Date.now() + 120_000)).toBe(1);
      expect(await publisherPass(ctx)).toBe(true);
      expect(await redis.get(unknown)).toBe('1');
      expect(await redis.get(names.complete)).not.toBeNull();
    } finally {
      await db.done();
    }
  });

  it('keeps what a namespace holds on a routine full copy (a start, no restore)', async () => {
    db = await open();
    try {
      await db.store().addRevocation({ kind: 'jti', subject: randomUUID(), expiresAt: LATER() });
      const ctx = instance();
      expect(await publisherPass(ctx)).toBe(true);
      const other = ctx.names.jti(randomUUID());
      await redis.set(other, '1', 'PX', 60_000);
      // Another instance starting (copyNeeded) on the same database.
      expect(await publisherPass({ ...ctx, state: { closed: false, copyNeeded: true } })).toBe(true);
      expect(await redis.get(other)).toBe('1');
    } finally {
      await db.done();
    }
  });

  it('never writes the marker of a copy that started before the mirror was emptied', async () => {
    db = await open();
    try {
      await db.store().addRevocation({ kind: 'jti', subject: randomUUID(), expiresAt: LATER() });
      const names = redisNames(testRedisNamespace(`restore-${randomUUID()}`));
      // Another instance empties the mirror while this copy runs: just before this copy's marker script.
      const racing = new Proxy(redis, {
        get(target, prop, receiver) {
          if (prop === 'eval') {
            return async (script: string, keys: number, ...args: (string | number)[]) => {
              if (keys === 5) await clearMirror(target, names);
              return target.eval(script, keys, ...args);
            };
          }
          const value: unknown = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const ctx = { ...instance(racing), names };
      await expect(publisherPass(ctx)).rejects.toThrow(/copying again/);
      expect(await redis.get(names.complete)).toBeNull();
      // Its next pass copies again, and vouches.
      expect(await publisherPass({ ...ctx, redis })).toBe(true);
      expect(await redis.get(names.complete)).not.toBeNull();
    } finally {
      await db.done();
    }
  });
});
