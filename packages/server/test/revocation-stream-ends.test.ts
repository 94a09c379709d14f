/**
 * How `GET /api/revocations/stream` refuses or ends a stream, apart from a graceful shutdown (graceful-shutdown
 * test) and a revoked admin token (security-regressions test): the per-server cap, a cursor we never issued, an
 * admin token that expires while its stream is open, a store that fails in the middle of a stream, and a drain that
 * begins while the stream is reading the store.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { decodeUnverified } from '@jot/jose';

import { openStore } from '../src/store/index.js';
import { hookStore, type HookedStore } from './support/hooked-store.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { waitFor } from './support/processes.js';

const FEED_SECRET = 'stream-ends-'.padEnd(40, 'x');
/** The cap of plugins/revocation-stream/index.ts. */
const MAX_STREAMS = 256;

/** An open (or refused) stream request: its response, the text read so far, and whether the server ended it. */
interface OpenStream {
  req: ClientRequest;
  res: IncomingMessage;
  text(): string;
  ended: Promise<void>;
}

/** Every stream a test opened; each is closed after its test, whatever the test's outcome. */
const opened: OpenStream[] = [];
afterEach(() => {
  for (const stream of opened.splice(0)) stream.req.destroy();
});

/** Opens the stream over a connection of its own; resolves once the response headers are in. */
function openStream(url: string, token: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}/api/revocations/stream`,
      { agent: false, headers: { authorization: `Bearer ${token}`, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        const ended = new Promise<void>((done) => res.on('end', done).on('close', done));
        const stream = { req, res, text: () => text, ended };
        opened.push(stream);
        resolve(stream);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Resolves when `stream` has ended, or fails after `ms`. */
async function endsWithin(stream: OpenStream, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the stream was still open after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([stream.ended, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the per-server cap and the cursor', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ revocationSecret: FEED_SECRET });
  });
  afterAll(async () => {
    await server.close();
  });

  it(`holds ${MAX_STREAMS} streams; the next is 503 ERR_UNAVAILABLE with Retry-After: 30, and one closing frees a place`, async () => {
    const open: OpenStream[] = [];
    for (let i = 0; i < MAX_STREAMS; i++) open.push(await openStream(server.url, FEED_SECRET));
    expect(open.map((s) => s.res.statusCode)).toEqual(open.map(() => 200));

    const refused = await server.request('GET', '/api/revocations/stream', { token: FEED_SECRET });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.body).toMatchObject({ code: 'ERR_UNAVAILABLE' });

    open.shift()!.req.destroy();
    const reopened = await waitFor(
      'a place freed by the closed stream',
      async () => {
        const stream = await openStream(server.url, FEED_SECRET);
        return stream.res.statusCode === 200 ? stream : undefined;
      },
      5000,
    );
    await waitFor('the snapshot on the new stream', () => reopened.text().includes('event: reset'), 5000);
  });

  it('refuses a cursor it never issued, from Last-Event-ID as from ?since=, with 400 ERR_VALIDATION', async () => {
    const bySince = await server.request('GET', '/api/revocations/stream?since=abc', { token: FEED_SECRET });
    const byHeader = await server.request('GET', '/api/revocations/stream', {
      token: FEED_SECRET,
      headers: { 'last-event-id': '12x' },
    });
    for (const res of [bySince, byHeader]) {
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_VALIDATION' });
    }
  });
});

describe('an admin token that expires while its stream is open', () => {
  let now = Date.now();
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(
      { revocationSecret: FEED_SECRET, clusterPollInterval: '100ms' },
      { clock: () => now },
    );
  });
  afterAll(async () => {
    await server.close();
  });

  it('ends the stream at its next turn once the clock passes the token’s exp', async () => {
    const admin = await signUp(server, 'admin@example.com');
    const stream = await openStream(server.url, admin.access_token);
    expect(stream.res.statusCode).toBe(200);
    await waitFor('the snapshot', () => stream.text().includes('event: reset'), 5000);

    const exp = decodeUnverified(admin.access_token).payload.exp!;
    now = exp * 1000;
    await endsWithin(stream, 5000);
    // It ended by itself, not by a shutdown.
    expect(stream.text()).not.toContain('event: shutdown');
  });
});

describe('a store that fails in the middle of a stream', () => {
  const lines: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-stream-ends-'));
  let hooked: HookedStore;
  let server: TestServer;
  beforeAll(async () => {
    hooked = hookStore(await openStore({ dataDir }));
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    server = await startServer(
      { revocationSecret: FEED_SECRET },
      { dataDir, store: hooked.store, logger: { level: 'error', stream: sink } },
    );
  });
  afterAll(async () => {
    await server.close({ keepData: true });
    await hooked.store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends that stream and logs the failure; the server and the next stream go on', async () => {
    const failed = hooked.once('listRevocationsSince', () =>
      Promise.reject(new Error('database unreachable')),
    );
    const stream = await openStream(server.url, FEED_SECRET);
    expect(stream.res.statusCode).toBe(200);
    await failed;
    await endsWithin(stream, 5000);
    await waitFor('the log line', () => lines.some((l) => l.includes('revocation stream failed')), 5000);
    expect(lines.join('')).toContain('database unreachable');

    const next = await openStream(server.url, FEED_SECRET);
    expect(next.res.statusCode).toBe(200);
    await waitFor('the snapshot on the next stream', () => next.text().includes('event: reset'), 5000);
  });
});

describe('a drain that begins while the stream reads the store', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-stream-drain-'));
  let hooked: HookedStore;
  let server: TestServer;
  beforeAll(async () => {
    hooked = hookStore(await openStore({ dataDir }));
    // A poll interval far beyond the test's deadlines: only a wake-up or the drain can move the stream on.
    server = await startServer(
      { revocationSecret: FEED_SECRET, clusterPollInterval: '10m' },
      { dataDir, store: hooked.store },
    );
  });
  afterAll(async () => {
    await server.close({ keepData: true });
    await hooked.store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends the stream with event: shutdown when that read returns, not a poll interval later', async () => {
    const stream = await openStream(server.url, FEED_SECRET);
    await waitFor('the snapshot', () => stream.text().includes('event: reset'), 5000);

    let reading = false;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    void hooked.once('listRevocationsSince', async (call) => {
      reading = true;
      await released;
      return call();
    });
    // What another instance's entry does (services/cluster-sync.ts): one wake-up, into the read the hook holds.
    server.app.jot.revocations.changes.emit('remote');
    await waitFor('the stream to be reading', () => reading, 5000);
    server.app.drain.start();
    release();

    await endsWithin(stream, 5000);
    expect(stream.text()).toContain('event: shutdown');
  });
});

describe('the heartbeat says the feed is being read', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-stream-heartbeat-'));
  let hooked: HookedStore;
  let server: TestServer;
  beforeAll(async () => {
    hooked = hookStore(await openStore({ dataDir }));
    server = await startServer(
      { revocationSecret: FEED_SECRET, clusterPollInterval: '100ms' },
      { dataDir, store: hooked.store },
    );
  });
  afterAll(async () => {
    await server.close({ keepData: true });
    await hooked.store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const pings = (stream: OpenStream): number => stream.text().split(': ping\n\n').length - 1;

  it('pings as soon as its first read succeeds, and never while that read hangs', async () => {
    // Stream A's first read hangs (a store that stopped answering); stream B's reads succeed.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    void hooked.once('listRevocationsSince', async (call) => {
      await released;
      return call();
    });
    const hung = await openStream(server.url, FEED_SECRET);
    const healthy = await openStream(server.url, FEED_SECRET);
    try {
      // B's first ping follows its first read, well before the first beat (HEARTBEAT_MS, 5 s).
      await waitFor('the ping after the first read', () => pings(healthy) >= 1, 3500);
      // B's next ping is the timer's; A's timer, started before B's, has beaten by then — and said nothing.
      await waitFor('the first beat', () => pings(healthy) >= 2, 15_000);
      expect(pings(hung)).toBe(0);
      expect(hung.text()).toBe('retry: 2000\n\n');
    } finally {
      release();
    }
    // Once its read returns, A is current again and says so.
    await waitFor('the ping after the hung read returned', () => pings(hung) >= 1, 5000);
  }, 30_000);
});
