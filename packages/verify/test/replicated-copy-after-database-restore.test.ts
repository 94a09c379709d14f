/**
 * A replicated verifier against an issuer whose database is restored from a backup while the verifier is away. The
 * restored database hands the lost revocation ids out again, to the logouts made after the restore; a verifier that
 * comes back after them must not resume after its old cursor (it would never learn of those logouts and would accept
 * their tokens until they expire). Its cursor carries a tag of the entry it names, the issuer sees that entry is not
 * the one stored under that id any more, and answers with a snapshot.
 *
 * The verifier's requests are held while the issuer is down, restored and used, so it comes back only after the ids
 * were reused — the case a cursor of bare ids gets wrong — however fast or slow the machine is.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { shutdownGracefully } from '../../server/src/shutdown.js';
import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { createVerifier, type FetchLike, type Verifier } from '../src/index.js';
import { codeOf, connected } from './support/outcome.js';
import { realFeed } from './support/real-feed.js';
import { recordingLogger, waitFor } from './support/wait.js';

const SECRET = 'restore-revocation-secret-0123456789abcdef';
const ISSUER = 'http://jot.test';

let server: TestServer | undefined;
let verifier: Verifier | undefined;
afterAll(async () => {
  await verifier?.close();
  await server?.close();
});

/** Polls an asynchronous condition until it holds, or fails after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A fetch whose requests wait while the gate is shut. */
function gatedFetch(): { fetch: FetchLike; shut(): void; open(): void } {
  let gate: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  return {
    fetch: async (input, init) => {
      await gate;
      return fetch(input, init);
    },
    shut() {
      gate = new Promise((resolve) => (release = resolve));
    },
    open: () => release(),
  };
}

describe('a replicated verifier whose issuer is restored from a backup while it is away', () => {
  it('learns of the logouts that reused the lost ids, and is current again', async () => {
    server = await startServer({ revocationSecret: SECRET });
    const { port } = new URL(server.url);
    const dataDir = server.dataDir;
    const restart = async (): Promise<TestServer> =>
      startServer({ revocationSecret: SECRET, port: Number(port) }, { dataDir });
    const tokens: string[] = [];
    for (const name of ['lost-a', 'lost-b', 'new-a', 'new-b', 'untouched']) {
      tokens.push((await signUp(server, `${name}@example.com`)).access_token);
    }
    const [lostA, lostB, newA, newB, untouched] = tokens;

    // The backup: a copy of the file, taken while the server is stopped.
    await server.close({ keepData: true });
    const db = join(dataDir, 'jot.db');
    copyFileSync(db, join(dataDir, 'backup.db'));
    server = await restart();

    const gate = gatedFetch();
    verifier = createVerifier({
      issuer: ISSUER,
      audience: ISSUER,
      ...realFeed(server.url, SECRET, { reconnectDelay: { min: '250ms', max: '500ms' } }),
      fetch: gate.fetch,
      logger: recordingLogger(),
    });
    await verifier.ready();
    await waitFor(connected(verifier), 10_000, 'the revocation stream');

    // Two logouts the verifier follows: its cursor ends at the second one's id.
    for (const token of [lostA, lostB]) {
      expect((await server.request('POST', '/api/logout', { token })).status).toBe(204);
    }
    await until(
      async () => (await codeOf(verifier!.verify(lostB!))) === 'ERR_TOKEN_REVOKED',
      10_000,
      'the verifier to apply the logouts',
    );
    const before = verifier.stats().revocation.cursor;
    expect(before).toMatch(/^\d+\.[A-Za-z0-9_-]{11}\.[0-9a-z]+$/);

    // The verifier is held back; the issuer stops, its database is restored (the two logouts are lost), it starts
    // again and two other sessions log out: their entries get the lost ids.
    gate.shut();
    // As at SIGTERM: the stream is told to go elsewhere, and the server stops.
    await shutdownGracefully(server.app, { drainDelayMs: 0, drainTimeoutMs: 1000 });
    for (const suffix of ['-wal', '-shm']) rmSync(db + suffix, { force: true });
    copyFileSync(join(dataDir, 'backup.db'), db);
    server = await restart();
    for (const token of [newA, newB]) {
      expect((await server.request('POST', '/api/logout', { token })).status).toBe(204);
    }
    const feed = await server.request('GET', '/api/revocations', { token: SECRET });
    expect(feed.body.cursor.split('.')[0]).toBe(before!.split('.')[0]);
    expect(feed.body.cursor).not.toBe(before);

    gate.open();
    await until(
      async () =>
        (await codeOf(verifier!.verify(newA!))) === 'ERR_TOKEN_REVOKED' &&
        (await codeOf(verifier!.verify(newB!))) === 'ERR_TOKEN_REVOKED',
      15_000,
      'the verifier to learn of the logouts made after the restore',
    );
    // Current, not failing closed: a token nobody revoked is accepted.
    expect(await codeOf(verifier.verify(untouched!))).toBe('accepted');
    expect(verifier.stats().revocation.cursor).toBe(feed.body.cursor);
  });
});
