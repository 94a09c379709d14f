/**
 * A revocation stream that connects but proves nothing must not keep the replicated copy current. Two shapes seen in
 * practice: a buffering proxy that passes the headers and holds the body back, and a feed whose store read fails, so
 * it sends its `retry:` line and ends. Only an event or a heartbeat counts; past `maxStaleness` the verifier fails
 * closed (503), and a stream that ends before either is a failure that backs off rather than a hot reconnect loop.
 * Before, each connection counted as current: neither shape ever went stale, and a revocation made after the
 * snapshot was never applied nor refused.
 */
import { describe, expect, it } from 'vitest';

import { SECRET } from '../../../test-support/fake-issuer.js';
import { codeOf } from './support/outcome.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';
import { waitFor } from './support/wait.js';

type Shape = 'headers-only' | 'retry-then-end';

const harness = useIssuerVerifier({});

/** A fetch that answers the stream in `shape` and everything else (snapshot, JWKS) from the fake issuer. */
function streamAs(shape: Shape, opened: { count: number }) {
  return async (input: string, init?: RequestInit): Promise<Response> => {
    if (!input.includes('/stream')) return fetch(input, init);
    opened.count += 1;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (shape === 'headers-only') {
          init?.signal?.addEventListener('abort', () => controller.error(new Error('aborted')));
          return;
        }
        controller.enqueue(new TextEncoder().encode('retry: 2000\n\n'));
        controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
}

describe.each(['headers-only', 'retry-then-end'] as const)('a stream that proves nothing (%s)', (shape) => {
  it('lets the copy go stale and fails closed past maxStaleness, refusing the revoked session', async () => {
    const opened = { count: 0 };
    const verifier = harness.build({
      fetch: streamAs(shape, opened),
      clock: Date.now,
      revocation: {
        strategy: 'replicated',
        secret: SECRET,
        maxStaleness: '1500ms',
        heartbeatTimeout: '1s',
        reconnectDelay: { min: '100ms', max: '400ms' },
      },
    });
    await verifier.ready();
    const token = harness.issuer.tokens.sign({ sid: 'session-1' });
    expect(await codeOf(verifier.verify(token))).toBe('accepted'); // the snapshot is fresh
    harness.issuer.feed.revoke('sid', 'session-1'); // after the snapshot: only the stream could bring it
    await waitFor(() => verifier.stats().revocation.stale, 10_000, 'the copy going stale');
    expect(await codeOf(verifier.verify(token))).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
    expect(verifier.stats().revocation.failClosed).toBeGreaterThan(0);
    expect(verifier.stats().revocation.failures).toBeGreaterThan(0);
    expect(opened.count).toBeGreaterThan(0);
  }, 20_000);
});

describe('a stream that ends before any event or heartbeat', () => {
  it('backs off like any failure instead of reconnecting at once', async () => {
    const opened = { count: 0 };
    const verifier = harness.build({
      fetch: streamAs('retry-then-end', opened),
      clock: Date.now,
      revocation: {
        strategy: 'replicated',
        secret: SECRET,
        maxStaleness: '30s',
        reconnectDelay: { min: '50ms', max: '400ms' },
      },
    });
    await verifier.ready();
    await waitFor(() => opened.count >= 6, 10_000, 'six stream attempts');
    const started = performance.now();
    const at = opened.count;
    await waitFor(() => opened.count >= at + 2, 10_000, 'two more attempts');
    // Backoff reached its cap (jittered, at least half of it) rather than restarting at its floor every time.
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    expect(verifier.stats().revocation.failures).toBeGreaterThanOrEqual(6);
  }, 20_000);
});
