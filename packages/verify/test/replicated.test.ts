/** The replicated revocation copy against a fake feed: snapshot, stream, resume, reset, staleness, cache. */
import { describe, expect, it } from 'vitest';

import { codeOf, connected } from './support/outcome.js';
import { useReplicatedVerifier } from './support/replicated-verifier.js';
import { waitFor } from './support/wait.js';

const setup = useReplicatedVerifier();

describe('replicated revocation', () => {
  it('loads the snapshot, then applies streamed entries', async () => {
    setup.issuer.feed.revoke('sid', 'old-session');
    // A silent stream is only abandoned (and a reconnect would replay what it missed) after a minute: within the
    // wait below, nothing but the open stream can deliver the new entry.
    const v = setup.build({ maxStaleness: '60s', heartbeatTimeout: '60s' });
    await v.ready();
    expect(v.stats().revocation.entries).toEqual({ jti: 0, sid: 1, user: 0 });
    expect(await codeOf(v.verify(setup.issuer.tokens.sign({ sid: 'old-session' })))).toBe(
      'ERR_TOKEN_REVOKED',
    );
    await waitFor(connected(v));
    setup.issuer.feed.revoke('jti', 'j-live');
    await waitFor(() => v.stats().revocation.events === 1);
    expect(await codeOf(v.verify(setup.issuer.tokens.sign({ jti: 'j-live' })))).toBe('ERR_TOKEN_REVOKED');
    expect(v.stats().revocation.cursor).toBe('2');
    // Pushed on the connection that was open before the revocation: no second stream, no second snapshot.
    expect(setup.issuer.feed.counts.stream).toBe(1);
    expect(setup.issuer.feed.counts.snapshot).toBe(1);
  });

  it('resumes from the last cursor after a disconnect, catching up on what it missed', async () => {
    const v = setup.build();
    await v.ready();
    await waitFor(connected(v));
    setup.issuer.feed.revoke('jti', 'a');
    await waitFor(() => v.stats().revocation.events === 1);
    setup.issuer.feed.feedDown = true;
    setup.issuer.feed.dropStreams();
    await waitFor(() => !v.stats().revocation.connected);
    setup.issuer.feed.revoke('jti', 'missed'); // published while we are away
    setup.issuer.feed.feedDown = false;
    await waitFor(connected(v), 2000, 'reconnected');
    await waitFor(() => v.stats().revocation.events === 2);
    expect(setup.issuer.feed.streamResumes.at(-1)).toBe('1');
    expect(setup.issuer.feed.counts.snapshot).toBe(1); // no new snapshot needed
    expect(await codeOf(v.verify(setup.issuer.tokens.sign({ jti: 'missed' })))).toBe('ERR_TOKEN_REVOKED');
  });

  it('reloads the snapshot on a reset event', async () => {
    const v = setup.build();
    await v.ready();
    await waitFor(connected(v));
    setup.issuer.feed.revoke('sid', 's1');
    await waitFor(() => v.stats().revocation.events === 1);
    setup.issuer.feed.resetStreams();
    await waitFor(() => setup.issuer.feed.counts.snapshot === 2, 2000, 'second snapshot');
    await waitFor(connected(v));
    expect(v.stats().revocation.snapshots).toBe(2);
    expect(await codeOf(v.verify(setup.issuer.tokens.sign({ sid: 's1' })))).toBe('ERR_TOKEN_REVOKED');
  });

  it('fails closed once the feed has been down longer than maxStaleness, and says so', async () => {
    const v = setup.build({ maxStaleness: '2s' });
    await v.ready();
    await waitFor(connected(v));
    setup.issuer.feed.feedDown = true;
    setup.issuer.feed.dropStreams();
    await waitFor(() => !v.stats().revocation.connected);
    setup.now += 1500; // within the bound: still accepted
    expect(await codeOf(v.verify(setup.issuer.tokens.sign()))).toBe('accepted');
    setup.now += 1000; // 2.5 s: past the bound
    const result = await v.authenticate({
      headers: { authorization: `Bearer ${setup.issuer.tokens.sign()}` },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
      expect(result.response.status).toBe(503);
      expect(result.response.headers['retry-after']).toBe('1');
    }
    const stats = v.stats().revocation;
    expect(stats).toMatchObject({ stale: true, failClosed: 1, failOpen: 0 });
    expect(stats.stalenessMs).toBeGreaterThan(2000);
    expect(setup.logger.lines.filter((l) => /failing closed/.test(l.message))).toHaveLength(1);
    // Back up: current again, accepted again, logged.
    setup.issuer.feed.feedDown = false;
    await waitFor(connected(v), 2000, 'reconnected');
    expect(await codeOf(v.verify(setup.issuer.tokens.sign()))).toBe('accepted');
    expect(setup.logger.lines.some((l) => /current again/.test(l.message))).toBe(true);
  });

  it('fails open when configured, still applying what it knows, and counts it', async () => {
    const v = setup.build({ maxStaleness: '500ms', failOpen: true });
    await v.ready();
    await waitFor(connected(v));
    setup.issuer.feed.revoke('jti', 'known');
    await waitFor(() => v.stats().revocation.events === 1);
    setup.issuer.feed.feedDown = true;
    setup.issuer.feed.dropStreams();
    await waitFor(() => !v.stats().revocation.connected);
    setup.now += 1000;
    expect(await codeOf(v.verify(setup.issuer.tokens.sign()))).toBe('accepted');
    expect(await codeOf(v.verify(setup.issuer.tokens.sign({ jti: 'known' })))).toBe('ERR_TOKEN_REVOKED');
    expect(v.stats().revocation.failOpen).toBe(2);
    expect(setup.logger.lines.some((l) => /failing open/.test(l.message))).toBe(true);
  });

  it('never fails open on a feed that refuses it (wrong secret): only an outage may fail open', async () => {
    const v = setup.build({
      maxStaleness: '500ms',
      failOpen: true,
      secret: 'not-the-feed-secret-0123456789-abcdef',
    });
    await waitFor(() => (v.stats().revocation.failures ?? 0) > 0, 5000, 'the feed refused');
    const result = await v.authenticate({
      headers: { authorization: `Bearer ${setup.issuer.tokens.sign()}` },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('ERR_VERIFY_REVOCATION_REFUSED');
      expect(result.response.status).toBe(503);
    }
    expect(v.stats().revocation).toMatchObject({ failOpen: 0, failClosed: 1 });
    expect(v.stats().revocation.lastError).toMatch(/401/);
  });

  it('rejects everything before the first snapshot (never loaded = infinitely stale)', async () => {
    setup.issuer.feed.feedDown = true;
    const v = setup.build();
    expect(await codeOf(v.verify(setup.issuer.tokens.sign()))).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
  });

  it('treats a connected but silent stream as dead after heartbeatTimeout', async () => {
    const v = setup.build({ heartbeatTimeout: '100ms' });
    await v.ready();
    await waitFor(connected(v));
    const connections = setup.issuer.feed.counts.stream;
    // The fake sends no heartbeats: the watchdog aborts and the client reconnects.
    await waitFor(() => setup.issuer.feed.counts.stream > connections, 2000, 'reconnect after silence');
  });

  it('keeps a verification cache that revocations invalidate', async () => {
    const v = setup.build({}, { cache: { maxEntries: 100 } });
    await v.ready();
    await waitFor(connected(v));
    const token = setup.issuer.tokens.sign({ sid: 'cached-session' });
    await v.verify(token);
    await v.verify(token);
    expect(v.stats().cache).toMatchObject({ size: 1, hits: 1, misses: 1 });
    setup.issuer.feed.revoke('sid', 'cached-session');
    await waitFor(() => v.stats().revocation.events === 1);
    expect(v.stats().cache?.size).toBe(0);
    expect(await codeOf(v.verify(token))).toBe('ERR_TOKEN_REVOKED');
    // Never past exp: an expired cached token misses and fails full verification.
    const short = setup.issuer.tokens.sign({ exp: Math.floor(setup.now / 1000) + 2 });
    await v.verify(short);
    setup.now += 10_000;
    expect(await codeOf(v.verify(short))).toBe('ERR_JWT_EXPIRED');
  });
});
