/**
 * The replicated copy under a misbehaving feed: a silent stream ages the copy from its last byte, a stream that
 * never answers is abandoned and retried, an entry that cannot be applied is never skipped, and a feed stuck on
 * `reset` is backed off.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createVerifier, type Verifier, type VerifierOptions } from '../src/index.js';
import { codeOf, connected } from './support/outcome.js';
import { AUDIENCE, SECRET, startFakeIssuer, type FakeIssuer } from '../../../test-support/fake-issuer.js';
import { recordingLogger, waitFor } from './support/wait.js';

type ReplicatedOptions = Extract<VerifierOptions['revocation'], { strategy: 'replicated' }>;

let issuer: FakeIssuer;
let verifier: Verifier | undefined;
let hanging: Server | undefined;
let now: number;
const clock = (): number => now;
let logger: ReturnType<typeof recordingLogger>;

beforeEach(async () => {
  issuer = await startFakeIssuer();
  now = Date.now();
  logger = recordingLogger();
});

afterEach(async () => {
  await verifier?.close();
  verifier = undefined;
  hanging?.closeAllConnections();
  hanging?.close();
  hanging = undefined;
  await issuer.close();
});

function build(
  revocation: Partial<ReplicatedOptions> = {},
  options: Partial<VerifierOptions> = {},
): Verifier {
  verifier = createVerifier({
    issuer: issuer.url,
    audience: AUDIENCE,
    revocation: {
      strategy: 'replicated',
      secret: SECRET,
      maxStaleness: '2s',
      reconnectDelay: { min: '10ms', max: '50ms' },
      ...revocation,
    },
    clock,
    logger,
    ...options,
  });
  return verifier;
}

describe('staleness of a silent stream', () => {
  it('counts from the last byte while connected, not from 0 up to heartbeatTimeout', async () => {
    const v = build({ maxStaleness: '2s' });
    await v.ready();
    await waitFor(connected(v));
    now += 1500;
    expect(v.stats().revocation).toMatchObject({ connected: true, stalenessMs: 1500, stale: false });
    expect(await codeOf(v.verify(issuer.sign()))).toBe('accepted');
    now += 1000; // 2.5 s without a byte, the stream still open
    expect(v.stats().revocation).toMatchObject({ connected: true, stalenessMs: 2500, stale: true });
    expect(await codeOf(v.verify(issuer.sign()))).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
  });

  it('keeps the last byte as the time the copy was current when the stream drops', async () => {
    const v = build({ maxStaleness: '2s' });
    await v.ready();
    await waitFor(connected(v));
    now += 1500;
    issuer.feedDown = true;
    issuer.dropStreams();
    await waitFor(() => !v.stats().revocation.connected);
    expect(v.stats().revocation.stalenessMs).toBe(1500);
    now += 600;
    expect(await codeOf(v.verify(issuer.sign()))).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
  });

  it('refuses a heartbeatTimeout above maxStaleness, and defaults it below', () => {
    expect(() => build({ maxStaleness: '30s', heartbeatTimeout: '45s' })).toThrow(TypeError);
    expect(() => build({ maxStaleness: '2s', heartbeatTimeout: 0 })).toThrow(TypeError);
    verifier = undefined;
    // The default (2/3 of maxStaleness) is accepted with any maxStaleness.
    expect(() => build({ maxStaleness: '30s' })).not.toThrow();
  });
});

describe('a stream that never answers', () => {
  it('is abandoned after heartbeatTimeout and retried with backoff', async () => {
    let streamRequests = 0;
    hanging = createServer((req, res) => {
      if (req.url === '/feed') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ entries: [], cursor: '0', has_more: false, snapshot: true }));
        return;
      }
      streamRequests += 1; // accept the connection, never answer
    });
    await new Promise<void>((resolve) => hanging!.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    const v = build({
      feedUrl: `${base}/feed`,
      streamUrl: `${base}/stream`,
      maxStaleness: '500ms',
      heartbeatTimeout: '100ms',
    });
    await v.ready();
    await waitFor(() => streamRequests >= 3, 2000, 'stream retried');
    const stats = v.stats().revocation;
    expect(stats.failures).toBeGreaterThanOrEqual(2);
    expect(stats.lastError).toMatch(/did not answer within heartbeatTimeout/);
    expect(stats.connected).toBe(false);
  });
});

describe('entries that cannot be applied', () => {
  it('on the stream: the cursor stays before it and the snapshot is reloaded', async () => {
    const v = build();
    await v.ready();
    await waitFor(connected(v));
    issuer.revoke('jti', 'a');
    await waitFor(() => v.stats().revocation.events === 1);
    expect(v.stats().revocation.cursor).toBe('1');
    issuer.sendRaw(
      'event: revocation\nid: 99\ndata: {"id":"99","kind":"client","subject":"c","expires_at":1}\n\n',
    );
    await waitFor(() => issuer.counts.snapshot === 2, 2000, 'snapshot reloaded');
    await waitFor(connected(v), 2000, 'reconnected');
    expect(v.stats().revocation.cursor).toBe('1'); // never 99
    expect(v.stats().revocation.snapshots).toBe(2);
    expect(logger.lines.some((l) => l.level === 'warn' && /could not be applied/.test(l.message))).toBe(true);
    expect(await codeOf(v.verify(issuer.sign({ jti: 'a' })))).toBe('ERR_TOKEN_REVOKED');
  });

  it('malformed JSON on the stream is treated the same way', async () => {
    const v = build();
    await v.ready();
    await waitFor(connected(v));
    issuer.sendRaw('event: revocation\nid: 5\ndata: {not json\n\n');
    await waitFor(() => issuer.counts.snapshot === 2, 2000, 'snapshot reloaded');
    expect(v.stats().revocation.cursor).toBe('0');
  });

  it('in the snapshot: the copy is not replaced, stays stale, and fails closed past maxStaleness', async () => {
    const v = build({ maxStaleness: '2s' });
    await v.ready();
    await waitFor(connected(v));
    issuer.revoke('jti', 'known');
    await waitFor(() => v.stats().revocation.events === 1);
    // An entry of a kind this verifier does not know: on the stream, then in every snapshot.
    issuer.revoke('client' as 'jti', 'c-1');
    await waitFor(() => (v.stats().revocation.failures ?? 0) >= 2, 2000, 'snapshot refused');
    const stats = v.stats().revocation;
    expect(stats.connected).toBe(false);
    expect(stats.cursor).toBe('1');
    expect(stats.lastError).toMatch(/malformed or unknown revocation entry/);
    expect(await codeOf(v.verify(issuer.sign({ jti: 'known' })))).toBe('ERR_TOKEN_REVOKED');
    now += 2500;
    expect(await codeOf(v.verify(issuer.sign()))).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
  });
});

describe('a feed that keeps answering reset', () => {
  it('reloads the snapshot with exponential backoff, not in a hot loop', async () => {
    const v = build({ reconnectDelay: { min: '10ms', max: '200ms' } }, { cache: { maxEntries: 10 } });
    await v.ready();
    await waitFor(connected(v));
    issuer.resetOnConnect = true;
    issuer.resetStreams();
    const before = issuer.counts.snapshot;
    await new Promise((resolve) => setTimeout(resolve, 700));
    const snapshots = issuer.counts.snapshot - before;
    expect(snapshots).toBeGreaterThanOrEqual(3);
    expect(snapshots).toBeLessThan(20);
    // Once the feed behaves, it settles.
    issuer.resetOnConnect = false;
    await waitFor(connected(v), 2000, 'settled');
  });
});
