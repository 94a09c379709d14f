/**
 * Starts `server-child.ts` under vite-node (TypeScript sources, like the tests) and waits for it to listen — on its
 * progress, as `startBin` does (`start-wait.ts`): a loaded machine may take over a minute to start it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { START_DEADLINE_MS, waitForStart } from './start-wait.js';

export { START_DEADLINE_MS };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** A server running in a child process. */
export interface ChildServer {
  url: string;
  process: ChildProcess;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

/**
 * Spawns the child with `env` (plus PATH/HOME) and resolves when it prints READY. Rejects (having killed it) if it
 * exits first, stops using CPU, or has not printed READY within {@link START_DEADLINE_MS} (`waitForStart`).
 */
export async function startChildServer(env: Record<string, string>): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [
      resolve(ROOT, 'node_modules/vite-node/vite-node.mjs'),
      '-c',
      'vitest.config.ts',
      'packages/server/test/support/server-child.ts',
    ],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let stdout = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await waitForStart(child, {
    name: 'child server',
    ready: () => {
      const match = /READY (\d+)/.exec(stdout);
      return match === null ? undefined : Number(match[1]);
    },
    output: () => output,
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
