/**
 * When to verify an asymmetric signature on libuv's thread pool instead of the event loop. On an idle process the
 * synchronous call is faster (no hop to another thread and back); once requests queue up, the event loop is the
 * bottleneck and moving RSA/ECDSA/EdDSA to the pool lets the process use every core.
 *
 * `'auto'` offloads while the event loop was busy for more than `busyAbove` of the last sampling interval, and
 * keeps offloading while earlier offloaded checks are still pending (a loop that offloads looks idle, which must not
 * flip it back while the queue lasts); otherwise it verifies inline.
 *
 * The same switch serves every asymmetric algorithm, RS256 included, because the hop is cheap next to what it frees.
 * Measured on the bench's guarded Fastify route (uncached, 50 connections, 2 cores shared with the load generator,
 * server CPU per request from /proc, interleaved rounds; 2026-12-01, RS256 signature 212 µs): RS256 costs 39 µs
 * inline (38 on the event loop) and 46-47 µs offloaded (23 on the loop); ES256 78 µs inline and 72 offloaded (23 on
 * the loop). Most of the hop's ~8 µs are thread wake-ups. Sending an evenly spread half of the checks to the pool
 * was no better than sending all (RS256 25.5k vs 26.0k req/s). Alternating runs of 50 pooled and 50 inline checks made
 * RS256 17 % faster (29.8k vs 25.5k req/s, near the inline CPU: wake-ups shared by a batch) and ES256 15 % slower
 * (15.9k vs 18.6k). Which pattern wins depends on how many requests one turn of the loop sees, which the traffic
 * decides, so under load every check goes; when the loop is idle, `'auto'` stays inline and pays nothing.
 * Batching the hop instead (2026-12-01, a scratch Fastify route, 5 interleaved rounds, quiet host): one
 * `worker_threads` verifier fed once per loop turn cut RS256's CPU per request by 13 % (58 vs 66 µs) but served
 * 6 % fewer requests (17.9k vs 19.1k req/s: the loop idles while the worker works a batch), and ES256 16 % fewer
 * (11.4k vs 13.6k: one worker thread against libuv's four); answering per check matched the pool. So the pool stays.
 * Its size is the process's (`UV_THREADPOOL_SIZE`, read once when the pool starts): with one thread on 2 cores
 * instead of Node's four, a busy thread takes the next check without sleeping and waking, and the same route served
 * 10 % (RS256) and 14 % (ES256) more requests, at 72 instead of 87 µs of CPU per RS256 request (full bench run,
 * docs/bench/runs/2026-12-04-epyc.md). docs/verify.md advises every core but the event loop's.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** `'auto'` (default), `'never'` (always inline) or `'always'` (always on the pool). */
export type OffloadMode = 'auto' | 'never' | 'always';

/** Event-loop utilisation above which `'auto'` offloads. */
export const BUSY_ABOVE = 0.5;
/** How often `'auto'` samples the event loop's utilisation. */
export const SAMPLE_INTERVAL_MS = 50;

/** The verifier's side of the policy. */
export interface OffloadPolicy {
  /** Whether the next asymmetric verification should go to the thread pool. */
  shouldOffload(): boolean;
  /**
   * One offloaded verification pending from now until its `settled()` (called exactly once, whether it succeeded or
   * failed), with no promise of its own on the hot path.
   */
  started(): void;
  settled(): void;
  /** How many verifications went to the pool, and how many ran inline. */
  stats(): { offloaded: number; inline: number };
  /** Stops the sampler. */
  close(): void;
}

/**
 * Builds the policy. `utilization` returns the event loop's utilisation over the last interval; injectable for
 * tests. The sampler timer is `unref`'d and started on first use, so an unused verifier holds no timer.
 */
export function createOffloadPolicy(
  mode: OffloadMode = 'auto',
  utilization: () => number = eventLoopSampler(),
): OffloadPolicy {
  if (mode !== 'auto' && mode !== 'never' && mode !== 'always') {
    throw new TypeError('verify: "offload" must be "auto", "never" or "always"');
  }
  let pending = 0;
  let offloaded = 0;
  let inline = 0;
  let busy = false;
  let timer: NodeJS.Timeout | undefined;

  function startSampling(): void {
    if (timer !== undefined) return;
    timer = setInterval(() => {
      busy = utilization() > BUSY_ABOVE;
    }, SAMPLE_INTERVAL_MS);
    timer.unref();
  }

  return {
    shouldOffload() {
      let decision: boolean;
      if (mode === 'auto') {
        startSampling();
        decision = busy || pending > 0;
      } else decision = mode === 'always';
      if (decision) offloaded += 1;
      else inline += 1;
      return decision;
    },
    started() {
      pending += 1;
    },
    settled() {
      pending -= 1;
    },
    stats: () => ({ offloaded, inline }),
    close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** The event loop's utilisation since the previous call (Node's `performance.eventLoopUtilization`). */
function eventLoopSampler(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    return delta.utilization;
  };
}
