/** Starts `server-child.ts` under vite-node (TypeScript sources, like the tests) and waits for it to listen. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** A server running in a child process. */
export interface ChildServer {
  url: string;
  process: ChildProcess;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

/** Spawns the child with `env` (plus PATH/HOME) and resolves when it prints READY (deadline 60 s). */
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
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`child server did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /READY (\d+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child server exited (${code}):\n${output}`));
    });
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
