/**
 * Test helpers for fault tests that need real processes: Jot servers spawned from the built bin
 * (`packages/server/dist/bin/jot-server.js`, built by `npm test` before Vitest runs), a throwaway PostgreSQL
 * database, and a private redis-server on a spare port that a test may stop and start again. Everything started
 * here is stopped by `cleanup()`; every wait is a poll with a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { START_DEADLINE_MS, waitForExit, waitForStart } from './start-wait.js';

export { START_DEADLINE_MS };

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(ROOT, 'packages/server/dist/bin/jot-server.js');

/** The KEK every spawned server shares (instances of one deployment share it). */
export const TEST_KEK = randomBytes(32).toString('base64url');
export const TEST_FEED_SECRET = 'f'.repeat(40);
export const ADMIN = { email: 'admin@example.com', password: 'admin password 1' };

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

function newest(dir: string): number {
  let latest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    latest = Math.max(latest, stat.isDirectory() ? newest(path) : stat.mtimeMs);
  }
  return latest;
}

/** Throws unless the built server (and @jot/jose) is at least as new as its sources. */
export function requireBuiltServer(): void {
  try {
    statSync(BIN);
  } catch {
    throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  }
  for (const pkg of ['server', 'jose']) {
    // tsc -b rewrites only the outputs that changed, but always its build info.
    const built = statSync(join(ROOT, 'packages', pkg, 'dist/.tsbuildinfo')).mtimeMs;
    if (newest(join(ROOT, 'packages', pkg, 'src')) > built) {
      throw new Error(`the build of @jot/${pkg} is older than its sources: run \`npm run build\``);
    }
  }
}

/** A free loopback TCP port (bound once to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// ── PostgreSQL ─────────────────────────────────────────────────────────────────────────────────────

/** A database of its own (so a test may terminate every backend in it without touching anyone else's). */
export interface TestDatabase {
  url: string;
  name: string;
  /** Runs SQL on it through a short-lived connection of the test's own. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  /** Terminates every other backend connected to it; resolves how many. */
  terminateBackends(): Promise<number>;
  drop(): Promise<void>;
}

const ADMIN_URLS = process.env.JOT_TEST_DATABASE_URL
  ? [process.env.JOT_TEST_DATABASE_URL]
  : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];

async function runOn<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  values?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates `jot_t_<random>`, or resolves `{ error }` when no PostgreSQL answers. */
export async function createTestDatabase(): Promise<TestDatabase | { error: string }> {
  const errors: string[] = [];
  for (const adminUrl of ADMIN_URLS) {
    const name = `jot_t_${randomBytes(6).toString('hex')}`;
    try {
      await runOn(adminUrl, `CREATE DATABASE ${name}`);
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
      continue;
    }
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return {
      url: url.href,
      name,
      query: (text, values) => runOn(url.href, text, values),
      async terminateBackends() {
        const rows = await runOn<{ n: string }>(
          adminUrl,
          `SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity
            WHERE datname = $1 AND pid <> pg_backend_pid()`,
          [name],
        );
        return Number(rows[0]?.n ?? 0);
      },
      drop: () => runOn(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => undefined),
    };
  }
  return { error: errors.join('; ') };
}

/** The database for a suite; in CI a missing PostgreSQL fails it, elsewhere it is skipped with a warning. */
export async function requireTestDatabase(suite: string): Promise<TestDatabase | undefined> {
  const db = await createTestDatabase();
  if (!('error' in db)) return db;
  if (process.env.CI) throw new Error(`PostgreSQL is required for ${suite}: ${db.error}`);
  console.warn(`SKIPPED ${suite}: PostgreSQL is not reachable (${db.error})`);
  return undefined;
}

// ── Redis ──────────────────────────────────────────────────────────────────────────────────────────

/** A private redis-server (no persistence: a restart loses everything, like a failed-over cache). */
export interface TestRedis {
  url: string;
  port: number;
  /** Starts it (again) on the same port; `password` makes it refuse clients without it. */
  start(options?: { password?: string }): Promise<void>;
  /** Kills it and waits until it is gone. */
  stop(): Promise<void>;
}

/** Whether a redis-server binary is available; in CI its absence fails the suite. */
export function hasRedisServer(suite: string): boolean {
  const found = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
  if (found) return true;
  if (process.env.CI) throw new Error(`redis-server is required for ${suite}`);
  console.warn(`SKIPPED ${suite}: redis-server is not installed`);
  return false;
}

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];

/** Starts a redis-server on a spare port. */
export async function startTestRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const redis: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start(options = {}) {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
      if (options.password !== undefined) args.push('--requirepass', options.password);
      const started = spawn('redis-server', args, { stdio: 'ignore' });
      child = started;
      children.add(started);
      started.once('exit', () => children.delete(started));
      await waitFor(`redis-server on port ${port}`, async () => {
        if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}`);
        const { Redis } = await import('ioredis');
        const probe = new Redis(port, '127.0.0.1', {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          password: options.password,
        });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      });
    },
    async stop() {
      const current = child;
      child = undefined;
      if (current === undefined) return;
      current.kill('SIGKILL');
      await exited(current);
    },
  };
  cleanups.push(() => redis.stop());
  await redis.start();
  return redis;
}

// ── Jot servers ────────────────────────────────────────────────────────────────────────────────────

/** A Jot server process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Every JSON log line it printed. */
  logs: Record<string, unknown>[];
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Environment every spawned server gets (cheap argon2, generous limits, the shared KEK and admin). */
export function serverEnv(extra: Record<string, string>): Record<string, string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-proc-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    JOT_PORT: '0',
    JOT_HOST: '127.0.0.1',
    JOT_DATA_DIR: dataDir,
    JOT_ISSUER: 'http://jot.cluster.test',
    JOT_KEK: TEST_KEK,
    JOT_SIGNING_ALG: 'ES256',
    JOT_LOG_LEVEL: 'info',
    JOT_ARGON2_MEMORY_KIB: '1024',
    JOT_ARGON2_TIME_COST: '1',
    JOT_RATE_LIMIT_AUTH: '100000/min',
    // The load of the cluster and outage suites refreshes a few sessions many times a minute; the per-session ceiling
    // has its own tests (refresh-session-limit.test.ts).
    JOT_REFRESH_SESSION_LIMIT: '100000',
    JOT_REVOCATION_SECRET: TEST_FEED_SECRET,
    JOT_ADMIN_EMAIL: ADMIN.email,
    JOT_ADMIN_PASSWORD: ADMIN.password,
    ...extra,
  };
}

/** Spawns the built server and resolves once it listens. */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const done = exited(child).then(() => {
    children.delete(child);
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const url = await waitForStart(child, {
    name: 'jot-server',
    ready: () => {
      for (const line of logs) {
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(line.msg));
        if (match) return match[1];
      }
      return undefined;
    },
    output: () => [stderr, ...logs.map((line) => JSON.stringify(line))].join('\n'),
  });
  return {
    url,
    child,
    logs,
    exited: done,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await done;
    },
  };
}

/**
 * Runs the built server expected to fail at start; resolves its exit code and output. A start that hangs (no CPU
 * for a while) or serves instead is killed and reported with its output (support/start-wait.ts).
 */
export async function runServerToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await waitForExit(child, { name: 'jot-server', output: () => `${stdout}\n${stderr}` });
  children.delete(child);
  return { code: child.exitCode, stdout, stderr };
}

/** Stops every process this module started and runs the registered clean-ups. */
export async function cleanup(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([...children].map(exited));
  while (cleanups.length > 0)
    await cleanups
      .pop()?.()
      .catch(() => undefined);
}

// ── HTTP ───────────────────────────────────────────────────────────────────────────────────────────

/** A response, with its latency. */
export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, any>;
  ms: number;
}

/** One JSON request with a 15 s deadline; a network failure resolves `status: 0`. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  try {
    const res = await fetch(base + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    const body =
      text.length > 0 && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : {};
    return { status: res.status, headers: res.headers, body, ms: performance.now() - started };
  } catch (err) {
    return {
      status: 0,
      headers: new Headers(),
      body: { error: err instanceof Error ? err.message : String(err) },
      ms: performance.now() - started,
    };
  }
}

/** Registers (if needed) and logs in; throws unless both work. */
export async function login(base: string, email: string, password = 'correct horse battery') {
  const reg = await call(base, 'POST', '/api/register', { body: { email, password } });
  if (reg.status !== 201 && reg.body.code !== 'ERR_EMAIL_TAKEN') {
    throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  }
  const res = await call(base, 'POST', '/api/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { access_token: string; refresh_token: string };
}

/** The percentile `p` (0–100) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
