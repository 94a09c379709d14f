/**
 * A paced latency probe: one GET every `intervalMs` on one keep-alive connection, timed in milliseconds with
 * decimals (autocannon's histogram keeps whole milliseconds, so a sub-millisecond answer reads 0 there). Requests
 * are scheduled at fixed times; when one answer is late the next request goes out as soon as it arrives, and its
 * latency is counted from the time it was scheduled, so a stall is counted for every request it held up (no
 * coordinated omission). At the default pace its own load on the server is a few dozen requests per second.
 */
import { Agent, get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { median, percentile } from './proc.js';

/** One GET of `url` on `agent`, resolved when the whole answer has arrived (rejects on an error or non-2xx). */
function fetchOnce(url, agent) {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent }, (response) => {
      response.resume();
      response.once('error', reject);
      response.once('end', () =>
        response.statusCode >= 200 && response.statusCode < 300
          ? resolve()
          : reject(new Error(`${url}: ${response.statusCode}`)),
      );
    });
    request.once('error', reject);
  });
}

/** p50, p99 and max (ms) of latencies from one or more probes, and how many there were. */
export function latencySummary(latencies, failed = 0) {
  return {
    p50: median(latencies),
    p99: percentile(latencies, 99),
    max: Math.max(...latencies),
    samples: latencies.length,
    failed,
  };
}

/**
 * Probes `url` for `seconds` (every `intervalMs`) and returns every answer's latency in ms and how many failed. The
 * connection is opened by one unmeasured request first.
 */
export async function probeLatency(url, { seconds, intervalMs = 20 }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = [];
  let failed = 0;
  try {
    await fetchOnce(url, agent);
    const start = performance.now();
    const end = start + seconds * 1000;
    for (let i = 0; ; i++) {
      const scheduled = start + i * intervalMs;
      if (scheduled >= end) break;
      const wait = scheduled - performance.now();
      if (wait > 0) await sleep(wait);
      try {
        await fetchOnce(url, agent);
        latencies.push(performance.now() - scheduled);
      } catch {
        failed++;
      }
    }
  } finally {
    agent.destroy();
  }
  return { latencies, failed };
}
