/**
 * `close()` of the replicated copy resolves promptly whatever the feed is doing (issue 8: it sometimes never
 * resolved): discovery, the snapshot or the stream stalled before or after their headers, a reconnect backoff
 * pending, or a custom `fetch` that ignores its abort signal. And it leaves no connection open behind it, so a
 * process that closes its verifier can exit.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createVerifier, type Verifier, type VerifierOptions } from '../src/index.js';
import { AUDIENCE, SECRET, startFakeIssuer, type FakeIssuer } from '../../../test-support/fake-issuer.js';
import { recordingLogger, waitFor } from './support/wait.js';

/**
 * How long close() is given. Every wait of the verifier's own is set far longer (the snapshot's timeout 30 s, the
 * heartbeat's 40 s, backoffs of 20 s and more where they matter), so a close() that waited on one of them, or on a
 * request that never ends, is still pending here — however loaded the machine, without timing close() itself.
 */
const CLOSE_WITHIN_MS = 10_000;

type Behaviour = 'hang' | 'headers' | 'partial' | 'snapshot' | 'down';

interface StallingServer {
  url: string;
  open: () => number;
  requests: string[];
  close(): Promise<void>;
}

/** A feed that answers each path as told: never, headers only, half a body, a real snapshot, or 503. */
async function stallingServer(routes: Record<string, Behaviour>): Promise<StallingServer> {
  const sockets = new Set<IncomingMessage>();
  const requests: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(path);
    sockets.add(req);
    req.on('close', () => sockets.delete(req));
    const behaviour = routes[path] ?? 'hang';
    if (behaviour === 'hang') return;
    if (behaviour === 'down') {
      res.writeHead(503).end();
      return;
    }
    if (behaviour === 'snapshot') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ entries: [], cursor: '0', has_more: false, snapshot: true }));
      return;
    }
    const type = path.endsWith('stream') ? 'text/event-stream' : 'application/json';
    res.writeHead(200, { 'content-type': type });
    res.flushHeaders();
    if (behaviour === 'partial') res.write(type === 'text/event-stream' ? 'retry: 1000\n\n' : '{"entries":[');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    open: () => sockets.size,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let feed: StallingServer | undefined;
let verifier: Verifier | undefined;
/** Serves the keys only, so `ready()` waits on the revocation copy alone. */
let keys: FakeIssuer;

beforeAll(async () => {
  keys = await startFakeIssuer();
});
afterAll(async () => {
  await keys.close();
});

afterEach(async () => {
  await feed?.close();
  feed = undefined;
  verifier = undefined;
});

type Revocation = Extract<VerifierOptions['revocation'], { strategy: 'replicated' }>;

function build(base: string, revocation: Partial<Revocation> = {}, options: Partial<VerifierOptions> = {}) {
  verifier = createVerifier({
    issuer: base,
    audience: AUDIENCE,
    jwksUri: `${keys.url}/.well-known/jwks.json`,
    revocation: {
      strategy: 'replicated',
      secret: SECRET,
      maxStaleness: '60s',
      timeout: '30s',
      reconnectDelay: { min: '10ms', max: '50ms' },
      feedUrl: `${base}/feed`,
      streamUrl: `${base}/stream`,
      ...revocation,
    },
    logger: recordingLogger(),
    ...options,
  });
  return verifier;
}

/** Closes and asserts it did not wait on anything (`CLOSE_WITHIN_MS`). */
async function expectPromptCloseOf(v: Verifier): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    v.close().then(() => 'closed'),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('still pending'), CLOSE_WITHIN_MS);
    }),
  ]);
  clearTimeout(timer);
  expect(outcome).toBe('closed');
}

/** Closes and asserts it was prompt and that no request to the feed is left open. */
async function expectPromptClose(v: Verifier): Promise<void> {
  await expectPromptCloseOf(v);
  await waitFor(() => feed!.open() === 0, 2000, 'the feed connections to close');
}

describe('replicated close() resolves promptly', () => {
  it('while discovery stalls', async () => {
    feed = await stallingServer({});
    const v = build(feed.url, { feedUrl: undefined, streamUrl: undefined });
    await waitFor(() => feed!.requests.some((p) => p.startsWith('/.well-known/')), 2000, 'discovery');
    // The discovery request itself (shared with the JWKS) ends within its own timeout (5 s); close() does not wait
    // for it: it is still open when close() has resolved.
    await expectPromptCloseOf(v);
    expect(feed.open()).toBeGreaterThan(0);
  });

  it('while the snapshot request is unanswered', async () => {
    feed = await stallingServer({ '/feed': 'hang' });
    const v = build(feed.url);
    await waitFor(() => feed!.requests.includes('/feed'), 2000, 'the snapshot request');
    await expectPromptClose(v);
  });

  it('while the snapshot body stalls half way', async () => {
    feed = await stallingServer({ '/feed': 'partial' });
    const v = build(feed.url);
    await waitFor(() => feed!.requests.includes('/feed'), 2000, 'the snapshot request');
    await expectPromptClose(v);
  });

  it('while the stream request is unanswered', async () => {
    feed = await stallingServer({ '/feed': 'snapshot', '/stream': 'hang' });
    const v = build(feed.url, { heartbeatTimeout: '50s' });
    await v.ready();
    await waitFor(() => feed!.requests.includes('/stream'), 2000, 'the stream request');
    await expectPromptClose(v);
  });

  it('while a connected stream is silent', async () => {
    feed = await stallingServer({ '/feed': 'snapshot', '/stream': 'partial' });
    const v = build(feed.url, { heartbeatTimeout: '50s' });
    await v.ready();
    await waitFor(() => v.stats().revocation.connected === true, 2000, 'the stream to connect');
    await expectPromptClose(v);
  });

  it('while a reconnect backoff is pending', async () => {
    feed = await stallingServer({ '/feed': 'snapshot', '/stream': 'down' });
    const v = build(feed.url, { reconnectDelay: { min: '20s', max: '60s' } });
    await v.ready();
    await waitFor(() => (v.stats().revocation.failures ?? 0) >= 1, 2000, 'a failed stream');
    await expectPromptClose(v);
  });

  it('with a custom fetch that ignores its abort signal', async () => {
    feed = await stallingServer({});
    let calls = 0;
    const v = build(feed.url, {}, { fetch: () => (calls++, new Promise<Response>(() => undefined)) });
    await waitFor(() => calls > 0, 2000, 'a fetch');
    await expectPromptCloseOf(v);
  });

  it('twice at once, and ready() settles instead of waiting forever', async () => {
    feed = await stallingServer({ '/feed': 'hang' });
    const v = build(feed.url);
    const ready = v.ready().then(
      () => 'resolved',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    await waitFor(() => feed!.requests.includes('/feed'), 2000, 'the snapshot request');
    await Promise.all([expectPromptClose(v), v.close()]);
    expect(await ready).toMatch(/closed/);
  });
});

describe('a feed instance that shuts down', () => {
  it('ends the stream with event: shutdown; the verifier reconnects within the retry hint, with no failure', async () => {
    const streams: { at: number; lastEventId: string | undefined }[] = [];
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/feed')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ entries: [], cursor: '41', has_more: false, snapshot: true }));
        return;
      }
      const header = req.headers['last-event-id'];
      streams.push({ at: performance.now(), lastEventId: typeof header === 'string' ? header : undefined });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (streams.length === 1) {
        res.end('id: 42\ndata: {}\n\nretry: 300\nevent: shutdown\ndata: {"reason":"shutdown"}\n\n');
      } else {
        res.write(': connected\n\n');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      // A long backoff: only the shutdown hint can bring the second connection this soon.
      const v = build(base, { reconnectDelay: { min: '20s', max: '60s' } });
      await v.ready();
      await waitFor(() => streams.length >= 2, 15_000, 'the reconnect');
      // Far sooner than the 20 s backoff allows (300 ms asked; the margin is for a loaded machine).
      expect(streams[1]!.at - streams[0]!.at).toBeLessThan(10_000);
      expect(streams[1]!.lastEventId).toBe('42');
      expect(v.stats().revocation.failures).toBe(0);
      await expectPromptCloseOf(v);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
