/**
 * Runs the real `jot-server` entry (`src/bin/jot-server.ts`, under vite-node like the tests) in a child process on
 * a free port, with the environment a test gives, and waits until it is ready — for tests about signals, exit codes
 * and the process as a whole.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort } from './processes.js';

export { freePort };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

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

/** Starts `jot-server` with `env` on `port` and resolves once `/readyz` answers 200 (deadline 60 s). */
export async function startBin(port: number, env: Record<string, string>): Promise<BinProcess> {
  const child = spawn(
    process.execPath,
    [
      resolve(ROOT, 'node_modules/vite-node/vite-node.mjs'),
      '-c',
      'vitest.config.ts',
      'packages/server/src/bin/jot-server.ts',
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        JOT_PORT: String(port),
        JOT_HOST: '127.0.0.1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jot-server exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`jot-server did not become ready:\n${output}`);
    }
    const ready = await fetch(`${url}/readyz`).then(
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
