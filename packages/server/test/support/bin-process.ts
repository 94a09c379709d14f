/**
 * Runs the real `jot-server` entry, built (`packages/server/dist/bin/jot-server.js`, as the package ships it and
 * `npm test` builds it), in a child process on a free port, with the environment a test gives, and waits until it
 * is ready — for tests about signals, exit codes and the process as a whole.
 *
 * Why a start can take a minute: it is 3–6 s of CPU (loading the modules about half of it, compiling Fastify's
 * schemas a fifth, garbage collection, the signing key's RSA generation; the migrations and the dummy argon2 hash
 * a few per cent), and on a loaded 2-core machine a process gets a tenth of a core: starts took 57–74 s at load
 * averages of 12–19, where the old fixed 60 s deadline failed them. (It used to run the TypeScript sources under
 * vite-node, whose transform added 2–4 s of CPU to each start.)
 * So the wait is not a fixed wall-clock guess: a start that uses no CPU for `STALL_MS` is waiting for something that
 * will not come — a hang, reported then whatever the load — and `START_DEADLINE_MS` bounds the rest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort, requireBuiltServer } from './processes.js';

export { freePort };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = resolve(ROOT, 'packages/server/dist/bin/jot-server.js');

/**
 * The longest {@link startBin} waits for a start that keeps using CPU: over 1.5 times the slowest seen on a loaded
 * 2-core machine (above). A test that starts a server gives itself this much more than it needs otherwise, so that a slow
 * start is reported by `startBin`, with the server's output, not by the test's timeout.
 */
export const START_DEADLINE_MS = 120_000;
/** How long a start may go without using CPU before it counts as hung (no load starves a process that long). */
const STALL_MS = 20_000;

/**
 * CPU time the process `pid` has used so far (user + system, all threads, in clock ticks), from Linux's
 * `/proc/<pid>/stat`; undefined where that cannot be read (then only the deadline applies).
 */
function cpuTicks(pid: number | undefined): number | undefined {
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

/** A `jot-server` process. */
export interface BinProcess {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far (pino JSON lines). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running, and wait for the exit. */
  kill(): Promise<void>;
}

/**
 * Starts `jot-server` with `env` on `port` and resolves once `/readyz` answers 200. Rejects (having killed it) if
 * it exits first, uses no CPU for {@link STALL_MS}, or is not ready within {@link START_DEADLINE_MS}.
 */
export async function startBin(port: number, env: Record<string, string>): Promise<BinProcess> {
  requireBuiltServer();
  const child = spawn(process.execPath, [BIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      JOT_PORT: String(port),
      JOT_HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const startedAt = Date.now();
  let cpu = cpuTicks(child.pid);
  let progressAt = startedAt;
  const fail = async (why: string): Promise<never> => {
    child.kill('SIGKILL');
    await exited;
    throw new Error(
      `jot-server ${why} (${cpu ?? '?'} CPU ticks in ${Date.now() - startedAt} ms):\n${output}`,
    );
  };
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`jot-server exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    const now = Date.now();
    const used = cpuTicks(child.pid);
    if (used === undefined || used !== cpu) progressAt = now;
    cpu = used;
    if (now - progressAt > STALL_MS)
      await fail(`used no CPU for ${STALL_MS} ms without becoming ready: it hangs`);
    if (now - startedAt > START_DEADLINE_MS) await fail(`did not become ready in ${START_DEADLINE_MS} ms`);
    // Bounded too: a server whose event loop is stuck accepts the connection and never answers.
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((done) => setTimeout(done, 50));
  }
  return {
    url,
    child,
    output: () => output,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
