/** Process CPU time from /proc (Linux): what a server spent, however many cores it used. */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU seconds in a `/proc/…/stat` file so far (0 once it has gone). */
function statCpu(path) {
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds of a process so far, all its threads (0 once it has gone). */
export function cpuSeconds(pid) {
  return statCpu(`/proc/${pid}/stat`);
}

/**
 * CPU seconds of a process so far, split between its main thread (a Node process's event loop) and all its other
 * threads (libuv's thread pool, V8's GC and compiler helpers), from `/proc/<pid>/task`. Node 20 does not name its
 * threads, so the others are one figure. A thread that ended since the last call takes its CPU with it, so only
 * compare two readings of a process whose threads live as long as it does (Node's do).
 */
export function threadCpuSeconds(pid) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return { main: 0, others: 0 };
  }
  let others = 0;
  for (const tid of tids) if (tid !== String(pid)) others += statCpu(`/proc/${pid}/task/${tid}/stat`);
  return { main: statCpu(`/proc/${pid}/task/${pid}/stat`), others };
}

/**
 * The whole machine's CPU seconds so far from `/proc/stat`: `busy` (user, nice, system, irq, softirq — every
 * process's work) and `steal` (time the hypervisor gave this VM's virtual CPUs to someone else).
 */
export function machineCpuSeconds() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal = 0] = fields;
    const busy = (user + nice + system + irq + softirq) / CLK_TCK;
    return Number.isFinite(busy) ? { busy, steal: steal / CLK_TCK } : undefined;
  } catch {
    return undefined; // no /proc/stat (not Linux)
  }
}

/**
 * Measures what competed with this process for the CPU between `start()` and `stop()`: the other processes' CPU and
 * the hypervisor's steal, each in cores on average (machine busy time minus this process's own CPU time);
 * `undefined` where the machine's CPU time cannot be read.
 */
export function contentionMeter() {
  const machine = machineCpuSeconds();
  const own = process.cpuUsage();
  const at = process.hrtime.bigint();
  return () => {
    const seconds = Number(process.hrtime.bigint() - at) / 1e9;
    const now = machineCpuSeconds();
    if (machine === undefined || now === undefined) return undefined;
    const { user, system } = process.cpuUsage(own);
    const others = now.busy - machine.busy - (user + system) / 1e6;
    return {
      otherCores: Math.max(0, others) / seconds,
      stealCores: (now.steal - machine.steal) / seconds,
      seconds,
    };
  };
}

/** The `p`-th percentile (0–100, nearest rank) of a list of numbers. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
