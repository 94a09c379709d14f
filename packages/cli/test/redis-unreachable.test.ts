/**
 * A database command with `JOT_REDIS_URL` pointing at nothing fails at once naming Redis (the server's
 * `ERR_UNAVAILABLE`, the URL without its password) and the process exits, instead of hanging while ioredis keeps
 * reconnecting. In-process through `run()`, and as a real process through the built CLI (`npm run build`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { errorLine, jot, serverEnv, tempDir } from './support.js';

const cliDist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** A local port with nothing listening. */
async function deadPort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Runs the built CLI; resolves with its exit code and stderr, or 'hung' after 15 s. */
async function runBuilt(args: string[], env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, [cliDist, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('hung');
    }, 15_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? -1);
    });
  });
  return { code, stderr };
}

describe('database commands with Redis unreachable', () => {
  it('fail with ERR_UNAVAILABLE naming Redis, without the URL password', async () => {
    const port = await deadPort();
    const dir = tempDir();
    const env = serverEnv(dir, { JOT_REDIS_URL: `redis://:hunter2-SECRET@127.0.0.1:${port}` });
    const r = await jot(['users', 'list'], { env, cwd: dir });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(/^jot: ERR_UNAVAILABLE: .*Redis/);
    expect(errorLine(r)).toContain(`127.0.0.1:${port}`);
    expect(r.stderr).not.toContain('SECRET');
  });

  it('the built CLI exits with code 2 instead of hanging', async () => {
    expect(existsSync(cliDist), 'run `npm run build` first').toBe(true);
    const port = await deadPort();
    const dir = tempDir();
    const r = await runBuilt(
      ['users', 'list'],
      serverEnv(dir, { JOT_REDIS_URL: `redis://127.0.0.1:${port}` }),
      dir,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_UNAVAILABLE: .*Redis/);
  }, 30_000);
});
