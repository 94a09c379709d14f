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
import { createTestSchema } from './postgres.js';

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
