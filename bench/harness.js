/**
 * A small, honest timing harness. Each function is calibrated (a batch of calls lasting about 1 ms, so reading the
 * clock is negligible) and warmed up; then the group is timed in interleaved rounds — round 1 of every function,
 * then round 2 of every function, … — with a full GC before each. On a shared machine a burst of other work then
 * slows every contender of a group alike instead of one of them, which keeps the ratios honest. The result is the
 * median ops/s over the rounds. Each round also records the process CPU time per operation (`process.cpuUsage`):
 * unlike the wall clock it does not count time the process spent waiting for a core, so differences between two
 * synchronous contenders (an overhead in µs) are taken from it, round by round. A round lasts at least `roundMs`
 * and `minOps` operations: at 35 ms an ES512 verify (~1.5 ms) would get some 20 operations per round, too few to
 * resolve a few µs of overhead. For an async function one operation is one awaited promise, started
 * `concurrency` at a time (its best case), and its CPU time includes libuv's threads.
 *
 * Where a few rounds cannot resolve what is asked of them (a raw ES512 check costs ~1 ms, and its round-to-round
 * noise is several µs), a group can be extended: more rounds of the same kind, of a named subset of its entries
 * only, until the caller's condition holds or a wall-time cap is reached. The extra rounds are ordinary paired
 * rounds, appended to the same series.
 */

/** Settings for the default and the `--quick` run. */
export const PROFILES = {
  // extendCapMs: the most wall time a group may spend on extra rounds (see `measureGroup`'s `extend`); none in --quick.
  default: { warmupMs: 150, rounds: 15, roundMs: 35, minOps: 100, extendCapMs: 60_000 },
  quick: { warmupMs: 30, rounds: 3, roundMs: 30, minOps: 20, extendCapMs: 0 },
};

const gc = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};
const nowNs = () => process.hrtime.bigint();

// Every result is written here so no call can be treated as dead code.
let sink;

/** Process CPU time (user + system, all threads) in ns since `start` (a `process.cpuUsage()` reading). */
function cpuNsSince(start) {
  const { user, system } = process.cpuUsage(start);
  return (user + system) * 1000;
}

function runSync(fn, batch, minNs, minOps) {
  let ops = 0;
  const cpu = process.cpuUsage();
  const start = nowNs();
  let elapsed;
  do {
    for (let i = 0; i < batch; i++) sink = fn();
    ops += batch;
    elapsed = nowNs() - start;
  } while (elapsed < minNs || ops < minOps);
  return { ops, ns: Number(elapsed), cpuNs: cpuNsSince(cpu) };
}

async function runAsync(fn, batch, minNs, minOps, concurrency) {
  let ops = 0;
  const cpu = process.cpuUsage();
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
  } while (elapsed < minNs || ops < minOps);
  return { ops, ns: Number(elapsed), cpuNs: cpuNsSince(cpu) };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function runner(entry) {
  const concurrency = entry.async ? (entry.concurrency ?? 16) : 1;
  return entry.async
    ? (batch, ns, minOps = 0) => runAsync(entry.fn, batch, ns, minOps, concurrency)
    : (batch, ns, minOps = 0) => Promise.resolve(runSync(entry.fn, batch, ns, minOps));
}

/**
 * Measures a group of functions that are to be compared with one another.
 *
 * @param {{ name: string, fn: () => unknown, async?: boolean, concurrency?: number }[]} entries
 * @param {{ warmupMs: number, rounds: number, roundMs: number, minOps?: number }} profile
 * @param {{ names: string[], done: (cpuNs: Map<string, number[]>) => boolean, capMs: number, batch?: number }}
 *   [extend] after the profile's rounds, more rounds of the entries in `names` only, until `done` says their
 *   per-round CPU times suffice or `capMs` of wall time has passed
 * @returns {Promise<Map<string, { hz: number, best: number, spread: number, cpuNs: number[], extended?: {
 *   extraRounds: number, capHit: boolean, capMs: number } }>>} per name: the median ops/s, the fastest round,
 *   (max - min) / median of the rounds as a rough noise figure, the CPU ns per operation of each round (rounds in
 *   the same order for every name, so round i of two names can be paired; the extended names have more of them,
 *   the same number each) and, for the extended names, what the extension did
 */
export async function measureGroup(entries, profile, extend) {
  const { warmupMs, rounds, roundMs, minOps = 0 } = profile;
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
    runs.push({ name: entry.name, run, batch, rates: [], cpuNs: [] });
  }
  const timeRound = async (group, round) => {
    // Rotate who goes first so no contender always runs right after the same neighbour.
    for (let i = 0; i < group.length; i++) {
      const r = group[(i + round) % group.length];
      gc();
      const { ops, ns, cpuNs } = await r.run(r.batch, roundMs * 1e6, minOps);
      r.rates.push((ops * 1e9) / ns);
      r.cpuNs.push(cpuNs / ops);
    }
  };
  for (let round = 0; round < rounds; round++) await timeRound(runs, round);
  const extension = extend ? await extendRounds(runs, rounds, extend, timeRound) : undefined;
  if (sink === Symbol.for('never')) throw new Error('unreachable');
  const results = new Map();
  for (const { name, rates, cpuNs } of runs) {
    const hz = median(rates);
    const best = Math.max(...rates);
    const extended = extension !== undefined && extend.names.includes(name) ? extension : undefined;
    results.set(name, { hz, best, spread: (best - Math.min(...rates)) / hz, cpuNs, extended });
  }
  return results;
}

/**
 * Extra rounds of the entries named in `extend.names`, `extend.batch` (default 5) at a time, until
 * `extend.done(cpuNsByName)` or `extend.capMs` of wall time. Returns how many were added and whether the cap ended it.
 */
async function extendRounds(runs, rounds, extend, timeRound) {
  const group = runs.filter((r) => extend.names.includes(r.name));
  const cpuNsByName = () => new Map(group.map((r) => [r.name, r.cpuNs]));
  const deadline = nowNs() + BigInt(Math.round(extend.capMs * 1e6));
  let extraRounds = 0;
  let capHit = false;
  while (group.length > 0 && !extend.done(cpuNsByName())) {
    if (nowNs() >= deadline) {
      capHit = true;
      break;
    }
    for (let k = 0; k < (extend.batch ?? 5); k++) await timeRound(group, rounds + extraRounds++);
  }
  return { extraRounds, capHit, capMs: extend.capMs };
}

/** Measures one function on its own (see `measureGroup`). */
export async function measure(fn, profile, options = {}) {
  const results = await measureGroup([{ name: 'fn', fn, ...options }], profile);
  return results.get('fn');
}
