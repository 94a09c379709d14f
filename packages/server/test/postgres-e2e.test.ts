/**
 * The auth server end to end on PostgreSQL: the same flows as on SQLite, through the same Kysely code, plus a
 * restart over the same database. In CI a missing Postgres fails this file; elsewhere it is skipped, visibly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openStore } from '@jot/server';

import { requirePostgres } from './support/postgres.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';

const pg = await requirePostgres('postgres-e2e');

describe.skipIf(pg === undefined)('auth server on PostgreSQL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-pg-'));
  let server: TestServer;

  async function start(): Promise<TestServer> {
    const store = await openStore({ url: pg!.url, dataDir, postgres: { schema: pg!.schema } });
    return startServer({ revocationSecret: 'r'.repeat(40) }, { dataDir, store });
  }

  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.app.jot.store.close();
    await server?.close({ keepData: true });
    await pg!.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers, logs in, rotates, detects reuse, and feeds the revocation', async () => {
    const tokens = await signUp(server, 'pg@example.com');
    expect((await server.request('GET', '/api/whoami', { token: tokens.access_token })).status).toBe(200);
    const next = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: tokens.refresh_token },
    });
    expect(next.status).toBe(200);
    const parallel = await Promise.all(
      Array.from({ length: 4 }, () =>
        server.request('POST', '/api/token/refresh', { body: { refresh_token: next.body.refresh_token } }),
      ),
    );
    expect(new Set(parallel.map((r) => r.body.refresh_token)).size).toBe(1);
    const feed = await server.request('GET', '/api/revocations', { token: 'r'.repeat(40) });
    await server.request('POST', '/api/logout-all', { token: next.body.access_token });
    const after = await server.request('GET', `/api/revocations?since=${feed.body.cursor}`, {
      token: 'r'.repeat(40),
    });
    expect(
      after.body.entries.some(
        (e: { kind: string; subject: string }) => e.kind === 'user' && e.subject === tokens.userId,
      ),
    ).toBe(true);
    expect((await server.request('GET', '/api/whoami', { token: next.body.access_token })).status).toBe(401);
  });

  it('keeps users and keys across a restart', async () => {
    const jwks = (await server.request('GET', '/.well-known/jwks.json')).body;
    await server.app.jot.store.close();
    await server.close({ keepData: true });
    server = await start();
    expect((await server.request('GET', '/.well-known/jwks.json')).body).toEqual(jwks);
    const login = await server.request('POST', '/api/login', {
      body: { email: 'pg@example.com', password: 'correct horse battery' },
    });
    expect(login.status).toBe(200);
  });
});
