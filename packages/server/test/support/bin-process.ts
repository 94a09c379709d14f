/**
 * Runs the real `jot-server` entry, built (`packages/server/dist/bin/jot-server.js`, as the package ships it and
 * `npm test` builds it), in a child process on a free port, with the environment a test gives, and waits until it
 * is ready — for tests about signals, exit codes and the process as a whole.
 *
 * A start can take a minute on a loaded machine, so the wait is on the process's progress (it uses CPU), not a fixed
 * wall-clock guess: see `start-wait.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort, requireBuiltServer } from './processes.js';
import { START_DEADLINE_MS, waitForStart } from './start-wait.js';

export { freePort, START_DEADLINE_MS };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = resolve(ROOT, 'packages/server/dist/bin/jot-server.js');

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
 * it exits first, stops using CPU, or is not ready within {@link START_DEADLINE_MS} (`waitForStart`).
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
  await waitForStart(child, {
    name: 'jot-server',
    // Bounded too: a server whose event loop is stuck accepts the connection and never answers.
    ready: () =>
      fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) }).then(
        (res) => (res.status === 200 ? true : undefined),
        () => undefined,
      ),
    output: () => output,
  });
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
