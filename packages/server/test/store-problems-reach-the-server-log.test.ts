/**
 * The store the server opens itself reports to the server's log: migrations applied, a pool connection lost, the
 * PostgreSQL change listener losing its connection. It was opened without the logger, so an operator saw none of it.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from './support/jot-server.js';
import { cleanup, requireTestDatabase, waitFor } from './support/processes.js';

const db = await requireTestDatabase('the store logging test');

describe.runIf(db !== undefined)('the store logs to the server log (PostgreSQL)', () => {
  const lines: string[] = [];
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.close();
    await db?.drop();
    await cleanup();
  });

  it('reports the migrations it applied and a change listener that lost its connection', async () => {
    server = await startServer(
      { databaseUrl: db!.url },
      { logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } } },
    );
    expect(lines.some((line) => line.includes('store: applied migration'))).toBe(true);
    // Every connection of the server is cut (a failover): the listener says so, and that it is reconnecting.
    await waitFor('the change listener to be listening', async () => {
      const rows = await db!.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN%'`,
      );
      return rows[0]?.n !== '0';
    });
    expect(await db!.terminateBackends()).toBeGreaterThan(0);
    await waitFor('a warning from the change listener', () =>
      lines.some((line) => line.includes('postgres change listener lost its connection')),
    );
  });
});
