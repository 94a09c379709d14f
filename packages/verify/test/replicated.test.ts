/** The replicated revocation copy against a fake feed: snapshot, stream, resume, reset, staleness, cache. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createVerifier, type Verifier, type VerifierOptions } from '../src/index.js';
import { codeOf, connected } from './support/outcome.js';
import { AUDIENCE, SECRET, startFakeIssuer, type FakeIssuer } from '../../../test-support/fake-issuer.js';
import { recordingLogger, waitFor } from './support/wait.js';

let issuer: FakeIssuer;
let verifier: Verifier | undefined;
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
  await issuer.close();
});

function build(
  revocation: Partial<Extract<VerifierOptions['revocation'], { strategy: 'replicated' }>> = {},
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

describe('replicated revocation', () => {
  it('loads the snapshot, then applies streamed entries', async () => {
    issuer.revoke('sid', 'old-session');
    const v = build();
    await v.ready();
    expect(v.stats().revocation.entries).toEqual({ jti: 0, sid: 1, user: 0 });
    expect(await codeOf(v.verify(issuer.sign({ sid: 'old-session' })))).toBe('ERR_TOKEN_REVOKED');
    await waitFor(connected(v));
    issuer.revoke('jti', 'j-live');
    await waitFor(() => v.stats().revocation.events === 1);
    expect(await codeOf(v.verify(issuer.sign({ jti: 'j-live' })))).toBe('ERR_TOKEN_REVOKED');
    expect(v.stats().revocation.cursor).toBe('2');
  });

  it('resumes from the last cursor after a disconnect, catching up on what it missed', async () => {
    const v = build();
    await v.ready();
    await waitFor(connected(v));
    issuer.revoke('jti', 'a');
    await waitFor(() => v.stats().revocation.events === 1);
    issuer.feedDown = true;
    issuer.dropStreams();
    await waitFor(() => !v.stats().revocation.connected);
    issuer.revoke('jti', 'missed'); // published while we are away
    issuer.feedDown = false;
    await waitFor(connected(v), 2000, 'reconnected');
    await waitFor(() => v.stats().revocation.events === 2);
    expect(issuer.streamResumes.at(-1)).toBe('1');
    expect(issuer.counts.snapshot).toBe(1); // no new snapshot needed
    expect(await codeOf(v.verify(issuer.sign({ jti: 'missed' })))).toBe('ERR_TOKEN_REVOKED');
  });

  it('reloads the snapshot on a reset event', async () => {
    const v = build();
    await v.ready();
    await waitFor(connected(v));
    issuer.revoke('sid', 's1');
    await waitFor(() => v.stats().revocation.events === 1);
    issuer.resetStreams();
    await waitFor(() => issuer.counts.snapshot === 2, 2000, 'second snapshot');
    await waitFor(connected(v));
    expect(v.stats().revocation.snapshots).toBe(2);
    expect(await codeOf(v.verify(issuer.sign({ sid: 's1' })))).toBe('ERR_TOKEN_REVOKED');
  });

  it('fails closed once the feed has been down longer than maxStaleness, and says so', async () => {
    const v = build({ maxStaleness: '2s' });
    await v.ready();
    await waitFor(connected(v));
    issuer.feedDown = true;
    issuer.dropStreams();
    await waitFor(() => !v.stats().revocation.connected);
    now += 1500; // within the bound: still accepted
    expect(await codeOf(v.verify(issuer.sign()))).toBe('accepted');
    now += 1000; // 2.5 s: past the bound
    const result = await v.authenticate({ headers: { authorization: `Bearer ${issuer.sign()}` } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
      expect(result.response.status).toBe(503);
      expect(result.response.headers['retry-after']).toBe('1');
    }
    const stats = v.stats().revocation;
    expect(stats).toMatchObject({ stale: true, failClosed: 1, failOpen: 0 });
    expect(stats.stalenessMs).toBeGreaterThan(2000);
    expect(logger.lines.filter((l) => /failing closed/.test(l.message))).toHaveLength(1);
    // Back up: current again, accepted again, logged.
    issuer.feedDown = false;
    await waitFor(connected(v), 2000, 'reconnected');
    expect(await codeOf(v.verify(issuer.sign()))).toBe('accepted');
    expect(logger.lines.some((l) => /current again/.test(l.message))).toBe(true);
  });

  it('fails open when configured, still applying what it knows, and counts it', async () => {
    const v = build({ maxStaleness: '500ms', failOpen: true });
    await v.ready();
    await waitFor(connected(v));
    issuer.revoke('jti', 'known');
    await waitFor(() => v.stats().revocation.events === 1);
    issuer.feedDown = true;
    issuer.dropStreams();
    await waitFor(() => !v.stats().revocation.connected);
    now += 1000;
    expect(await codeOf(v.verify(issuer.sign()))).toBe('accepted');
    expect(await codeOf(v.verify(issuer.sign({ jti: 'known' })))).toBe('ERR_TOKEN_REVOKED');
    expect(v.stats().revocation.failOpen).toBe(2);
    expect(logger.lines.some((l) => /failing open/.test(l.message))).toBe(true);
  });

  it('rejects everything before the first snapshot (never loaded = infinitely stale)', async () => {
    issuer.feedDown = true;
    const v = build();
    expect(await codeOf(v.verify(issuer.sign()))).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
  });

  it('treats a connected but silent stream as dead after heartbeatTimeout', async () => {
    const v = build({ heartbeatTimeout: '100ms' });
    await v.ready();
    await waitFor(connected(v));
    const connections = issuer.counts.stream;
    // The fake sends no heartbeats: the watchdog aborts and the client reconnects.
    await waitFor(() => issuer.counts.stream > connections, 2000, 'reconnect after silence');
  });

  it('keeps a verification cache that revocations invalidate', async () => {
    const v = build({}, { cache: { maxEntries: 100 } });
    await v.ready();
    await waitFor(connected(v));
    const token = issuer.sign({ sid: 'cached-session' });
    await v.verify(token);
    await v.verify(token);
    expect(v.stats().cache).toMatchObject({ size: 1, hits: 1, misses: 1 });
    issuer.revoke('sid', 'cached-session');
    await waitFor(() => v.stats().revocation.events === 1);
    expect(v.stats().cache?.size).toBe(0);
    expect(await codeOf(v.verify(token))).toBe('ERR_TOKEN_REVOKED');
    // Never past exp: an expired cached token misses and fails full verification.
    const short = issuer.sign({ exp: Math.floor(now / 1000) + 2 });
    await v.verify(short);
    now += 10_000;
    expect(await codeOf(v.verify(short))).toBe('ERR_JWT_EXPIRED');
  });
});
