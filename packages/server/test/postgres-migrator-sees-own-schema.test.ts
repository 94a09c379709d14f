/**
 * The store's migrations look only at the store's own schema (store/own-schema-introspector.ts). Kysely's own
 * PostgreSQL introspector read every column of every schema and called `pg_get_serial_sequence` on each, so a
 * neighbour dropping a column at that moment failed Jot's start ("column "user_id" of relation "mail_outbox" does not
 * exist", seen with two test files migrating side by side). Here a neighbour schema holds tables (one the same name
 * as Jot's migration table): they are not reported, and a store opens beside a neighbour that drops columns throughout.
 */
import { Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';

import { openStore } from '../src/store/open.js';
import { createPostgresDialect } from '../src/store/postgres.js';
import { requirePostgres, type TestSchema } from './support/postgres.js';

const own = await requirePostgres('the migrator on PostgreSQL');
const neighbour = own && (await requirePostgres('the migrator on PostgreSQL'));
const ready = own !== undefined && neighbour !== undefined;

afterAll(async () => {
  await own?.drop();
  await neighbour?.drop();
});

describe.runIf(ready)('the migrator on PostgreSQL', () => {
  const mine = own as TestSchema;
  const next = neighbour as TestSchema;

  it('is told of the tables of its own schema only', async () => {
    const other = new Kysely<unknown>({ dialect: createPostgresDialect(next.url, { schema: next.schema }) });
    const db = new Kysely<unknown>({ dialect: createPostgresDialect(mine.url, { schema: mine.schema }) });
    try {
      await other.schema.createTable('kysely_migration').addColumn('name', 'text').execute();
      await other.schema.createTable('elsewhere').addColumn('id', 'integer').execute();
      await db.schema.createTable('here').addColumn('id', 'integer').execute();
      const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
      expect(tables.map((t) => `${t.schema}.${t.name}`)).toEqual([`${mine.schema}.here`]);
      await db.schema.dropTable('here').execute();
    } finally {
      await other.destroy();
      await db.destroy();
    }
  });

  it('opens a store while a neighbour schema drops and adds columns all the time', async () => {
    const other = new Kysely<unknown>({ dialect: createPostgresDialect(next.url, { schema: next.schema }) });
    let churning = true;
    const churn = (async () => {
      await other.schema.createTable('churn').addColumn('id', 'integer').execute();
      for (let i = 0; churning; i++) {
        await other.schema.alterTable('churn').addColumn(`c${i}`, 'text').execute();
        await other.schema.alterTable('churn').dropColumn(`c${i}`).execute();
      }
    })();
    try {
      for (let round = 0; round < 3; round++) {
        const store = await openStore({ url: mine.url, dataDir: '/tmp', postgres: { schema: mine.schema } });
        await store.close();
      }
    } finally {
      churning = false;
      await churn;
      await other.destroy();
    }
  });
});
