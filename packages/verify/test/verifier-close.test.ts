/**
 * `close()` of a verifier ends its own requests: a discovery or key-set fetch still in flight is aborted at once
 * rather than holding its connection until its timeout (5 s by default), so a process that closes its verifier can
 * exit. Requests the caller's `fetch` makes see the abort through their signal.
 */
import { getEventListeners } from 'node:events';

import { describe, expect, it } from 'vitest';

import { fetchOk, untilClosed } from '../src/http.js';
import { createVerifier, type FetchLike } from '../src/index.js';
import { recordingLogger, waitFor } from './support/wait.js';

/** A fetch that never answers and records the signal of each request. */
function stalledFetch(): { fetch: FetchLike; signals: AbortSignal[]; urls: string[] } {
  const signals: AbortSignal[] = [];
  const urls: string[] = [];
  const fetchImpl: FetchLike = (input, init) => {
    urls.push(input);
    const signal = init?.signal;
    if (signal) signals.push(signal);
    return new Promise<Response>((_, reject) => {
      signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  };
  return { fetch: fetchImpl, signals, urls };
}

describe('verifier close()', () => {
  it.each([
    ['issuer discovery', {}],
    ['the key set', { jwksUri: 'https://issuer.example/jwks.json' }],
  ])('aborts %s still in flight at once, well before its timeout', async (_, extra) => {
    const stalled = stalledFetch();
    const logger = recordingLogger();
    const verifier = createVerifier({
      logger,
      issuer: 'https://issuer.example',
      audience: 'https://api.example',
      algorithms: ['ES256'],
      revocation: 'none',
      fetch: stalled.fetch,
      jwks: { timeout: '60s' },
      ...extra,
    });
    await waitFor(() => stalled.signals.length > 0, 5000, 'the first request');
    expect(stalled.signals.every((signal) => !signal.aborted)).toBe(true);
    await verifier.close();
    expect(stalled.signals.every((signal) => signal.aborted)).toBe(true);
    // Ended by close(), not failed: nothing to warn about or count, and no second discovery address asked.
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.lines).toEqual([]);
    expect(verifier.stats().jwks.failures).toBe(0);
    expect(stalled.urls).toHaveLength(1);
  });

  it('aborts them even when the revocation strategy fails to close', async () => {
    const stalled = stalledFetch();
    const verifier = createVerifier({
      issuer: 'https://issuer.example',
      audience: 'https://api.example',
      algorithms: ['ES256'],
      jwksUri: 'https://issuer.example/jwks.json',
      logger: recordingLogger(),
      fetch: stalled.fetch,
      revocation: {
        ready: () => Promise.resolve(),
        check: () => Promise.resolve(),
        stats: () => ({ strategy: 'none', stale: false, stalenessMs: 0, failOpen: 0, failClosed: 0 }),
        close: () => Promise.reject(new Error('cannot close')),
      },
    });
    await waitFor(() => stalled.signals.length > 0, 5000, 'the key-set request');
    await expect(verifier.close()).rejects.toThrow('cannot close');
    expect(stalled.signals.every((signal) => signal.aborted)).toBe(true);
  });
});

describe('untilClosed', () => {
  it('aborts the signal of an operation still running when the long-lived signal aborts', async () => {
    const closing = new AbortController();
    let seen: AbortSignal | undefined;
    const running = untilClosed(
      closing.signal,
      (signal) =>
        new Promise<never>((_, reject) => {
          seen = signal;
          signal?.addEventListener('abort', () => reject(new Error('ended')), { once: true });
        }),
    );
    closing.abort();
    await expect(running).rejects.toThrow('ended');
    expect(seen?.aborted).toBe(true);
    // Already closed: the next operation starts aborted.
    await untilClosed(closing.signal, async (signal) => expect(signal?.aborted).toBe(true));
  });

  it('leaves nothing attached to the long-lived signal once each operation ends (no AbortSignal.any per request)', async () => {
    const closing = new AbortController();
    for (let i = 0; i < 100; i++) {
      await untilClosed(closing.signal, async () => 'done');
      await untilClosed(closing.signal, () => Promise.reject(new Error('failed'))).catch(() => undefined);
    }
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(0);
  });
});

/**
 * What holds on to a signal: its abort listeners, and the signals AbortSignal.any() made from it (Node's internal
 * set, read when this Node has it: those are what leaked, nodejs/node#55351).
 */
function linksTo(signal: AbortSignal): number {
  const dependants = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  const set =
    dependants === undefined ? undefined : (signal as unknown as Record<symbol, unknown>)[dependants];
  return getEventListeners(signal, 'abort').length + (set instanceof Set ? set.size : 0);
}

describe('fetchOk with a long-lived caller signal', () => {
  // Like undici's fetch, it listens to the request's signal (an observed signal is what Node cannot collect).
  const answering: FetchLike = (_, init) => {
    init?.signal?.addEventListener('abort', () => undefined, { once: true });
    return Promise.resolve(new Response('{}', { status: 200 }));
  };

  it('drops its link to the caller signal once its timeout passes, however many requests shared it', async () => {
    const closing = new AbortController();
    for (let i = 0; i < 50; i++)
      await fetchOk(answering, 'http://x.test/', { timeoutMs: 30, signal: closing.signal });
    await waitFor(() => linksTo(closing.signal) === 0, 5000, 'the links to drop');
  });

  it('is aborted by the caller before its timeout, and by its timeout without the caller', async () => {
    const signals: AbortSignal[] = [];
    const recording: FetchLike = (_, init) => {
      signals.push(init!.signal!);
      return Promise.resolve(new Response('{}', { status: 200 }));
    };
    const closing = new AbortController();
    await fetchOk(recording, 'http://x.test/', { timeoutMs: 60_000, signal: closing.signal });
    await fetchOk(recording, 'http://x.test/', { timeoutMs: 30 });
    expect(signals[0]!.aborted).toBe(false);
    closing.abort();
    expect(signals[0]!.aborted).toBe(true);
    await waitFor(() => signals[1]!.aborted, 5000, 'the timeout');
  });
});
