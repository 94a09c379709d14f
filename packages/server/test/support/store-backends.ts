/**
 * Test helper: one store suite on both backends — SQLite in a temporary folder, and Postgres in a throwaway schema
 * when one answers. Without Postgres, CI (or a pg driver that does not load) gets a failing test named
 * `<title>: postgres`; elsewhere the Postgres run is skipped with a warning.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, it } from 'vitest';

import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createTestSchema, requirePostgres } from './postgres.js';

/** Registers a suite for the backend `name`: `open` opens a store on its database, `teardown` removes it. */
export type BackendSuite = (name: string, open: () => Promise<Store>, teardown: () => Promise<void>) => void;

/** Registers `suite` for SQLite and Postgres; `title` is what the suite's describe blocks start with. */
export async function onBothBackends(title: string, suite: BackendSuite): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jot-store-sqlite-'));
  suite(
    'sqlite',
    () => openStore({ dataDir: dir }),
    async () => rmSync(dir, { recursive: true, force: true }),
  );

  const pg = await createTestSchema();
  if ('error' in pg) {
    if (process.env.CI || pg.broken) {
      describe(`${title}: postgres`, () => {
        it('needs a working, reachable Postgres', () => {
          throw new Error(pg.error);
        });
      });
    } else {
      console.warn(`\n⚠ SKIPPING ${title} on Postgres: ${pg.error}\n`);
    }
    return;
  }
  const pgDir = mkdtempSync(join(tmpdir(), 'jot-store-pg-'));
  suite(
    'postgres',
    () => openStore({ url: pg.url, dataDir: pgDir, postgres: { schema: pg.schema } }),
    async () => {
      await pg.drop();
      rmSync(pgDir, { recursive: true, force: true });
    },
  );
}

/** A database a server-level test can run on: its store opened with the server's data folder, and its removal. */
export interface ServerBackend {
  name: 'SQLite' | 'PostgreSQL';
  open(dataDir: string): Promise<Store>;
  drop(): Promise<void>;
}

/**
 * The backends for a server-level suite (`describe.each`): SQLite always, PostgreSQL in a throwaway schema when one
 * answers. Without PostgreSQL, CI (or a broken driver) fails loudly; elsewhere it is skipped with a warning.
 */
export async function serverBackends(suite: string): Promise<ServerBackend[]> {
  const backends: ServerBackend[] = [
    { name: 'SQLite', open: (dataDir) => openStore({ dataDir }), drop: () => Promise.resolve() },
  ];
  const target = await requirePostgres(suite);
  if (target === undefined) return backends;
  backends.push({
    name: 'PostgreSQL',
    open: (dataDir) => openStore({ url: target.url, dataDir, postgres: { schema: target.schema } }),
    drop: () => target.drop(),
  });
  return backends;
}
