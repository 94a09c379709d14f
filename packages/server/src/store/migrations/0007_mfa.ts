/**
 * Migration 0007: multi-factor authentication (TOTP, passkeys, recovery codes), the two-step sign-in's MFA tokens
 * and WebAuthn challenges, the authentication context of a session (`amr`, `acr`) and the facts the theft signals
 * compare (known devices, where a session was last seen). See ../schema.ts for what each column means.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

import type { DialectName } from '../schema.js';

/** Creates the MFA tables and adds `sessions.amr` / `sessions.acr`. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await alterSessions(db);
  await createMfaFactors(db);
  await createMfaUsedSteps(db);
  await createMfaRecoveryCodes(db);
  await createMfaChallenges(db);
  await createMfaFailures(db);
  await createKnownDevices(db);
  await createSessionSightings(db);
}

/** New columns of `sessions`. */
async function alterSessions(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('sessions')
    .addColumn('amr', 'text', (c) => c.notNull().defaultTo('["pwd"]'))
    .execute();
  await db.schema
    .alterTable('sessions')
    .addColumn('acr', 'text', (c) => c.notNull().defaultTo('aal1'))
    .execute();
}

/** The table `mfa_factors` and its indexes. */
async function createMfaFactors(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mfa_factors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_ciphertext', 'text')
    .addColumn('credential_id', 'text', (c) => c.unique())
    .addColumn('public_key', 'text')
    .addColumn('counter', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('transports', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('confirmed_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addCheckConstraint('mfa_factors_kind_check', sql`kind in ('totp', 'webauthn')`)
    .execute();
  await db.schema.createIndex('mfa_factors_user_id_idx').on('mfa_factors').column('user_id').execute();
}

/** The table `mfa_used_steps`. */
async function createMfaUsedSteps(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mfa_used_steps')
    .addColumn('factor_id', 'text', (c) => c.notNull().references('mfa_factors.id').onDelete('cascade'))
    .addColumn('step', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('mfa_used_steps_pk', ['factor_id', 'step'])
    .execute();
}

/** The table `mfa_recovery_codes` and its indexes. */
async function createMfaRecoveryCodes(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mfa_recovery_codes')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('mfa_recovery_codes_user_id_idx')
    .on('mfa_recovery_codes')
    .column('user_id')
    .execute();
}

/** The table `mfa_challenges` and its indexes. */
async function createMfaChallenges(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mfa_challenges')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('mfa_challenges_expires_at_idx')
    .on('mfa_challenges')
    .column('expires_at')
    .execute();
}

/** The table `mfa_failures`. */
async function createMfaFailures(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mfa_failures')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .execute();
}

/** The table `known_devices`. */
async function createKnownDevices(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('known_devices')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('device_hash', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('known_devices_pk', ['user_id', 'device_hash'])
    .execute();
}

/** The table `session_sightings`. */
async function createSessionSightings(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('session_sightings')
    .addColumn('session_id', 'text', (c) => c.primaryKey().references('sessions.id').onDelete('cascade'))
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text', (c) => c.notNull())
    .addColumn('seen_at', 'bigint', (c) => c.notNull())
    .execute();
}

/** Drops what {@link up} created. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  for (const table of [
    'session_sightings',
    'known_devices',
    'mfa_failures',
    'mfa_challenges',
    'mfa_recovery_codes',
    'mfa_used_steps',
    'mfa_factors',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await db.schema.alterTable('sessions').dropColumn('acr').execute();
  await db.schema.alterTable('sessions').dropColumn('amr').execute();
}
