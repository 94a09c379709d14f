/**
 * Queries behind the theft signals: the devices a user signed in from (`known_devices`, claimed by a primary-key
 * INSERT so a new device is reported once however many instances see it) and where each session was last used
 * (`session_sightings`). A device claimed before the account's device cut-off (`users.devices_valid_after`, null: the
 * account's cut-off — the owner's or an admin's clean-up) is new again: a thief's browser does not stay known past
 * the owner's password reset or sign-out everywhere. It is claimed again by the same statement, a conditional update
 * of the row the INSERT conflicts with, so it too is reported once.
 */
import { sql, type Kysely } from 'kysely';

import { precompiled } from './precompiled.js';

import type { Schema } from './schema.js';

/** Where a session was last used. */
export interface SessionSighting {
  network: string;
  userAgent: string;
  seenAt: number;
}

type Db = Kysely<Schema>;

/** `rememberDevice`'s upsert, compiled once (see precompiled.ts): every sign-in runs it. */
const rememberDeviceQuery = precompiled(['userId', 'deviceHash', 'now'], (db, v) =>
  db
    .insertInto('known_devices')
    .values({ user_id: v.userId, device_hash: v.deviceHash, first_seen: sql<number>`${v.now}` })
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'device_hash'])
        .doUpdateSet({ first_seen: (eb) => eb.ref('excluded.first_seen') })
        // Only a claim from before the device cut-off is taken over; a current one changes nothing.
        .where((eb) =>
          eb(
            'known_devices.first_seen',
            '<=',
            eb
              .selectFrom('users as u')
              .select((u) => u.fn.coalesce('u.devices_valid_after', 'u.tokens_valid_after').as('cut_off'))
              .whereRef('u.id', '=', 'known_devices.user_id'),
          ),
        ),
    )
    .returning('user_id'),
);

/**
 * Remembers a device for a user, claimed at `now`; true when it was new — never seen, or last claimed at or before
 * the account's device cut-off.
 */
export async function rememberDevice(
  db: Db,
  userId: string,
  deviceHash: string,
  now: number,
): Promise<boolean> {
  // RETURNING gives a row only when the INSERT added one or the conflict's update took a stale claim over (not when
  // its WHERE kept a current one), in SQLite and PostgreSQL alike.
  return (await rememberDeviceQuery(db, { userId, deviceHash, now })) !== undefined;
}

/** How many devices the user is known on. */
export async function countDevices(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom('known_devices')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * `recordSighting`'s upsert, compiled once (see precompiled.ts) and a named statement on PostgreSQL (it returns
 * nothing): it runs on every refresh.
 */
const upsertSightingQuery = precompiled(
  ['sessionId', 'network', 'userAgent', 'seenAt'],
  (db, v) => {
    const seenAt = sql<number>`${v.seenAt}`;
    return db
      .insertInto('session_sightings')
      .values({ session_id: v.sessionId, network: v.network, user_agent: v.userAgent, seen_at: seenAt })
      .onConflict((oc) =>
        oc.column('session_id').doUpdateSet({ network: v.network, user_agent: v.userAgent, seen_at: seenAt }),
      );
  },
  { named: 'sighting' },
);

/** Records where a session is used now (an upsert: one row per session). */
export async function recordSighting(db: Db, sessionId: string, sighting: SessionSighting): Promise<void> {
  await upsertSightingQuery(db, { sessionId, ...sighting });
}

/** Security events of one type for a user since `since` (the failure-burst signal). */
export async function countUserEventsSince(
  db: Db,
  userId: string,
  types: readonly string[],
  since: number,
): Promise<number> {
  const row = await db
    .selectFrom('security_events')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .where('type', 'in', [...types])
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
