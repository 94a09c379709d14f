/**
 * A small, honest timing harness. Each function is calibrated (a batch of calls lasting about 1 ms, so reading the
 * clock is negligible) and warmed up; then the group is timed in interleaved rounds — round 1 of every function,
 * then round 2 of every function, … — with a full GC before each. On a shared machine a burst of other work then
 * slows every contender of a group alike instead of one of them, which keeps the ratios honest. The result is the
 * median ops/s over the rounds. For an async function one operation is one awaited promise, started `concurrency`
 * at a time (its best case).
 */

/** Settings for the default and the `--quick` run. */
export const PROFILES = {
  default: { warmupMs: 150, rounds: 15, roundMs: 35 },
  quick: { warmupMs: 30, rounds: 3, roundMs: 30 },
};

const gc = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};
const nowNs = () => process.hrtime.bigint();

// Every result is written here so no call can be treated as dead code.
let sink;

function runSync(fn, batch, minNs) {
  let ops = 0;
  const start = nowNs();
  let elapsed;
  do {
    for (let i = 0; i < batch; i++) sink = fn();
    ops += batch;
    elapsed = nowNs() - start;
  } while (elapsed < minNs);
  return { ops, ns: Number(elapsed) };
}

async function runAsync(fn, batch, minNs, concurrency) {
  let ops = 0;
  const start = nowNs();
  let elapsed;
  const pending = new Array(concurrency);
  do {
    for (let i = 0; i < batch; i++) {
      for (let j = 0; j < concurrency; j++) pending[j] = fn();
      sink = await Promise.all(pending);
    }
    ops += batch * concurrency;
    elapsed = nowNs() - start;
  } while (elapsed < minNs);
  return { ops, ns: Number(elapsed) };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function runner(entry) {
  const concurrency = entry.async ? (entry.concurrency ?? 16) : 1;
  return entry.async
    ? (batch, ns) => runAsync(entry.fn, batch, ns, concurrency)
    : (batch, ns) => Promise.resolve(runSync(entry.fn, batch, ns));
}

/**
 * Measures a group of functions that are to be compared with one another.
 *
 * @param {{ name: string, fn: () => unknown, async?: boolean, concurrency?: number }[]} entries
 * @param {{ warmupMs: number, rounds: number, roundMs: number }} profile
 * @returns {Promise<Map<string, { hz: number, best: number, spread: number }>>} per name: the median ops/s, the
 *   fastest round, and (max - min) / median of the rounds as a rough noise figure
 */
export async function measureGroup(entries, profile) {
  const { warmupMs, rounds, roundMs } = profile;
  const runs = [];
  for (const entry of entries) {
    const run = runner(entry);
    let batch = 1;
    for (;;) {
      const { ns } = await run(batch, 0);
      if (ns >= 1e6 || batch >= 1 << 20) break;
      batch *= ns < 1e5 ? 8 : 2;
    }
    await run(batch, warmupMs * 1e6);
    runs.push({ name: entry.name, run, batch, rates: [] });
  }
  for (let round = 0; round < rounds; round++) {
    // Rotate who goes first so no contender always runs right after the same neighbour.
    for (let i = 0; i < runs.length; i++) {
      const r = runs[(i + round) % runs.length];
      gc();
      const { ops, ns } = await r.run(r.batch, roundMs * 1e6);
      r.rates.push((ops * 1e9) / ns);
    }
  }
  if (sink === Symbol.for('never')) throw new Error('unreachable');
  const results = new Map();
  for (const { name, rates } of runs) {
    const hz = median(rates);
    const best = Math.max(...rates);
    results.set(name, { hz, best, spread: (best - Math.min(...rates)) / hz });
  }
  return results;
}

/** Measures one function on its own (see `measureGroup`). */
export async function measure(fn, profile, options = {}) {
  const results = await measureGroup([{ name: 'fn', fn, ...options }], profile);
  return results.get('fn');
}
