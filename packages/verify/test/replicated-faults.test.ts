/**
 * The replicated copy under a misbehaving feed: a silent stream ages the copy from its last byte, a stream that
 * never answers is abandoned and retried, an entry that cannot be applied is never skipped, and a feed stuck on
 * `reset` is backed off.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { codeOf, connected } from './support/outcome.js';
import { useReplicatedVerifier } from './support/replicated-verifier.js';
import { waitFor } from './support/wait.js';

let hanging: Server | undefined;

// Registered before the shared setup's hooks, so (hooks run as a stack) it runs after the verifier is closed.
afterEach(() => {
  hanging?.closeAllConnections();
  hanging?.close();
  hanging = undefined;
});

const setup = useReplicatedVerifier();

describe('staleness of a silent stream', () => {
  it('counts from the last byte while connected, not from 0 up to heartbeatTimeout', async () => {
    const v = setup.build({ maxStaleness: '2s' });
    await v.ready();
    await waitFor(connected(v));
    setup.now += 1500;
    expect(v.stats().revocation).toMatchObject({ connected: true, stalenessMs: 1500, stale: false });
    expect(await codeOf(v.verify(setup.issuer.tokens.sign()))).toBe('accepted');
    setup.now += 1000; // 2.5 s without a byte, the stream still open
    expect(v.stats().revocation).toMatchObject({ connected: true, stalenessMs: 2500, stale: true });
    expect(await codeOf(v.verify(setup.issuer.tokens.sign()))).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
  });

  it('keeps the last byte as the time the copy was current when the stream drops', async () => {
    const v = setup.build({ maxStaleness: '2s' });
    await v.ready();
    await waitFor(connected(v));
    setup.now += 1500;
    setup.issuer.feed.feedDown = true;
    setup.issuer.feed.dropStreams();
    await waitFor(() => !v.stats().revocation.connected);
    expect(v.stats().revocation.stalenessMs).toBe(1500);
    setup.now += 600;
    expect(await codeOf(v.verify(setup.issuer.tokens.sign()))).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
  });

  it('refuses a heartbeatTimeout above maxStaleness, and defaults it below', () => {
    expect(() => setup.build({ maxStaleness: '30s', heartbeatTimeout: '45s' })).toThrow(TypeError);
    expect(() => setup.build({ maxStaleness: '2s', heartbeatTimeout: 0 })).toThrow(TypeError);
    // The default (2/3 of maxStaleness) is accepted with any maxStaleness.
    expect(() => setup.build({ maxStaleness: '30s' })).not.toThrow();
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
    const v = setup.build({
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
    const v = setup.build();
    await v.ready();
    await waitFor(connected(v));
    setup.issuer.feed.revoke('jti', 'a');
    await waitFor(() => v.stats().revocation.events === 1);
    expect(v.stats().revocation.cursor).toBe('1');
    setup.issuer.feed.sendRaw(
      'event: revocation\nid: 99\ndata: {"id":"99","kind":"client","subject":"c","expires_at":1}\n\n',
    );
    await waitFor(() => setup.issuer.feed.counts.snapshot === 2, 2000, 'snapshot reloaded');
    await waitFor(connected(v), 2000, 'reconnected');
    expect(v.stats().revocation.cursor).toBe('1'); // never 99
    expect(v.stats().revocation.snapshots).toBe(2);
    expect(setup.logger.lines.some((l) => l.level === 'warn' && /could not be applied/.test(l.message))).toBe(
      true,
    );
    expect(await codeOf(v.verify(setup.issuer.tokens.sign({ jti: 'a' })))).toBe('ERR_TOKEN_REVOKED');
  });

  it('malformed JSON on the stream is treated the same way', async () => {
    const v = setup.build();
    await v.ready();
    await waitFor(connected(v));
    setup.issuer.feed.sendRaw('event: revocation\nid: 5\ndata: {not json\n\n');
    await waitFor(() => setup.issuer.feed.counts.snapshot === 2, 2000, 'snapshot reloaded');
    expect(v.stats().revocation.cursor).toBe('0');
  });

  it('in the snapshot: the copy is not replaced, stays stale, and fails closed past maxStaleness', async () => {
    const v = setup.build({ maxStaleness: '2s' });
    await v.ready();
    await waitFor(connected(v));
    setup.issuer.feed.revoke('jti', 'known');
    await waitFor(() => v.stats().revocation.events === 1);
    // An entry of a kind this verifier does not know: on the stream, then in every snapshot.
    setup.issuer.feed.revoke('client' as 'jti', 'c-1');
    await waitFor(() => (v.stats().revocation.failures ?? 0) >= 2, 2000, 'snapshot refused');
    const stats = v.stats().revocation;
    expect(stats.connected).toBe(false);
    expect(stats.cursor).toBe('1');
    expect(stats.lastError).toMatch(/malformed or unknown revocation entry/);
    expect(await codeOf(v.verify(setup.issuer.tokens.sign({ jti: 'known' })))).toBe('ERR_TOKEN_REVOKED');
    setup.now += 2500;
    // The feed answered, with an entry this verifier cannot apply: a refusal, not an outage (failOpen would not apply).
    expect(await codeOf(v.verify(setup.issuer.tokens.sign()))).toBe('ERR_VERIFY_REVOCATION_REFUSED');
  });
});

describe('a feed that keeps answering reset', () => {
  it('reloads the snapshot with exponential backoff, not in a hot loop', async () => {
    const v = setup.build({ reconnectDelay: { min: '10ms', max: '200ms' } }, { cache: { maxEntries: 10 } });
    await v.ready();
    await waitFor(connected(v));
    setup.issuer.feed.resetOnConnect = true;
    setup.issuer.feed.resetStreams();
    const before = setup.issuer.feed.counts.snapshot;
    await new Promise((resolve) => setTimeout(resolve, 700));
    const snapshots = setup.issuer.feed.counts.snapshot - before;
    expect(snapshots).toBeGreaterThanOrEqual(3);
    expect(snapshots).toBeLessThan(20);
    // Once the feed behaves, it settles.
    setup.issuer.feed.resetOnConnect = false;
    await waitFor(connected(v), 2000, 'settled');
  });
});
