/**
 * Waiting for a server started in a child process to become ready, on progress rather than a fixed wall-clock guess
 * (used by `bin-process.ts` and `child-server.ts`).
 *
 * Why a start can take a minute: it is 3–6 s of CPU (loading the modules about half of it, compiling Fastify's
 * schemas a fifth, garbage collection, the signing key's RSA generation; the migrations and the dummy argon2 hash
 * a few per cent; under vite-node the transform adds 2–4 s), and on a loaded 2-core machine a process gets a tenth
 * of a core: starts took 57–74 s at load averages of 12–19, where the old fixed 60 s deadlines failed them.
 * So a start that uses no CPU for {@link STALL_MS} is waiting for something that will not come — a hang, reported
 * then whatever the load — and {@link START_DEADLINE_MS} bounds the rest.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The longest a start that keeps using CPU is waited for: over 1.5 times the slowest seen on a loaded 2-core machine
 * (above). A test that starts a server gives itself this much more than it needs otherwise, so that a slow start is
 * reported by {@link waitForStart}, with the server's output, not by the test's timeout.
 */
export const START_DEADLINE_MS = 120_000;
/** How long a start may go without using CPU before it counts as hung (no load starves a process that long). */
export const STALL_MS = 20_000;

/**
 * CPU time the process `pid` has used so far (user + system, all threads, in clock ticks), from Linux's
 * `/proc/<pid>/stat`; undefined where that cannot be read (then only the deadline applies).
 */
export function cpuTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name (in parentheses, maybe with spaces): the state, then utime and stime 11 and 12 on.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** What {@link waitForStart} waits for, and how long. */
export interface StartWait<T> {
  /** The process, as the error messages name it (`jot-server`, `child server`). */
  name: string;
  /** Resolves with a value once the process is ready (e.g. its port), undefined while it is not. */
  ready: () => Promise<T | undefined> | T | undefined;
  /** Everything the process printed so far, for the error messages. */
  output: () => string;
  /** @default {@link STALL_MS} (a test of this helper makes it short) */
  stallMs?: number;
  /** @default {@link START_DEADLINE_MS} */
  deadlineMs?: number;
}

/**
 * Polls `ready` until it gives a value and returns it. Rejects — having SIGKILLed the process and waited for its
 * exit — if it exits first, uses no CPU for `stallMs`, or is not ready within `deadlineMs`; the message says which,
 * with the CPU it used and its output.
 */
export async function waitForStart<T>(child: ChildProcess, wait: StartWait<T>): Promise<T> {
  return watch(child, wait, START_GOAL, async (exitedFirst) => {
    if (exitedFirst) {
      await exitedFirst;
      throw new Error(`${wait.name} exited (${child.exitCode ?? child.signalCode}):\n${wait.output()}`);
    }
    return wait.ready();
  });
}

/**
 * Waits for a process expected to stop by itself (a start that must fail) and resolves once it has exited, its
 * output read. Rejects, having SIGKILLed it, if it uses no CPU for `stallMs` or runs past `deadlineMs` — a start
 * that should have failed and hangs or serves instead.
 */
export async function waitForExit(
  child: ChildProcess,
  wait: Omit<StartWait<unknown>, 'ready'>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return watch(child, { ...wait, ready: () => undefined }, EXIT_GOAL, async (exitedFirst) => {
    if (!exitedFirst) return undefined;
    await exitedFirst;
    return { code: child.exitCode, signal: child.signalCode };
  });
}

const START_GOAL = { stalled: 'without becoming ready', late: 'become ready' };
const EXIT_GOAL = { stalled: 'without exiting', late: 'exit' };

/**
 * The loop of both waits: every 50 ms, `step` is given the process's exit (a promise that resolves once its output
 * is read, when it has exited; undefined while it runs) and returns a value to stop with, or undefined to go on.
 */
async function watch<T>(
  child: ChildProcess,
  wait: StartWait<unknown>,
  goal: { stalled: string; late: string },
  step: (exited: Promise<void> | undefined) => Promise<T | undefined>,
): Promise<T> {
  const stallMs = wait.stallMs ?? STALL_MS;
  const deadlineMs = wait.deadlineMs ?? START_DEADLINE_MS;
  // Exited, and its output read to the end (bounded: a grandchild may hold the pipes open), for the message.
  const closed = new Promise<void>((done) => child.once('close', () => done()));
  const ended = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((done) => (timer = setTimeout(done, 2000)))]);
    clearTimeout(timer);
  };
  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once('exit', () => done());
  });
  const startedAt = Date.now();
  let cpu = cpuTicks(child.pid);
  let progressAt = startedAt;
  const fail = async (why: string): Promise<never> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await ended();
    throw new Error(
      `${wait.name} ${why} (${cpu ?? '?'} CPU ticks in ${Date.now() - startedAt} ms):\n${wait.output()}`,
    );
  };
  for (;;) {
    const hasExited = child.exitCode !== null || child.signalCode !== null;
    const value = await step(hasExited ? ended() : undefined);
    if (value !== undefined) return value;
    const now = Date.now();
    const used = cpuTicks(child.pid);
    if (used === undefined || used !== cpu) progressAt = now;
    cpu = used;
    if (now - progressAt > stallMs) await fail(`used no CPU for ${stallMs} ms ${goal.stalled}: it hangs`);
    if (now - startedAt > deadlineMs) await fail(`did not ${goal.late} in ${deadlineMs} ms`);
    await new Promise((done) => setTimeout(done, 50));
  }
}
