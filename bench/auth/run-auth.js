/**
 * The auth-server section of `npm run bench`: the built `jot-server` in its own process (SQLite, then a database of
 * its own on the local PostgreSQL), loaded by autocannon from this process. Each endpoint is reported per second of
 * server CPU (from /proc), so the figure does not depend on how much of the machine the load generator took; on
 * PostgreSQL also counting the CPU of the server's PostgreSQL backends.
 *
 * - refresh: each connection follows its own chain of rotating refresh tokens (one session per connection);
 * - whoami: `GET /api/whoami` with an access token;
 * - login: `POST /api/login` (argon2id), beside the raw argon2id verify rate of the binding, per CPU-second;
 * - client credentials: `POST /oauth/token` with `client_secret_basic`, a client registered through the admin API;
 * - `/healthz` p99 while a login storm runs;
 * - on PostgreSQL, the floor under a refresh there: one read and one committed write by themselves (pg-floor.js).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import autocannon from 'autocannon';

import { rsSignCpuUs } from '../lib/host-anchor.js';
import { freePort, postJSON } from '../lib/net.js';
import { latencySummary, probeLatency } from '../lib/probe.js';
import { cpuSeconds, median, threadCpuSeconds } from '../lib/proc.js';
import { pgFloor } from './pg-floor.js';
import { owned } from '../lib/children.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER_DIST = join(ROOT, 'packages/server/dist');
const BIN = join(SERVER_DIST, 'bin/jot-server.js');
export const PASSWORD = 'bench correct horse battery';
const PG_ADMIN = process.env.JOT_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const AUTH_PROFILES = {
  default: { rounds: 3, seconds: 5, connections: 50, loginConnections: 8 },
  quick: { rounds: 1, seconds: 2, connections: 20, loginConnections: 4 },
};

/**
 * Starts jot-server with `env` (on `port`, or a free one; `nodeArgs` before the script, e.g. `--cpu-prof`) and waits
 * until `/readyz` answers 200.
 */
export async function startServer(env, port, nodeArgs = []) {
  port ??= await freePort();
  const child = owned(
    spawn(process.execPath, [...nodeArgs, BIN], {
      env: {
        ...process.env,
        NODE_ENV: 'development',
        JOT_PORT: String(port),
        JOT_HOST: '127.0.0.1',
        JOT_LOG_LEVEL: 'warn',
        JOT_RATE_LIMIT_AUTH: '100000000/min',
        // The client-credentials load is one client: its per-client budget (1000/s by default) out of the way too.
        JOT_RATE_LIMIT_CLIENT: '100000000/min',
        // Each refresh chain here rotates its session many times a second, where a real client rotates about once per
        // access-token lifetime: the per-session rotation limit (429 ERR_REFRESH_LIMITED after 30) and the anomaly
        // signal (an event per session after 5) are raised out of the way. Both are still counted on every refresh.
        JOT_REFRESH_ANOMALY_LIMIT: '1000',
        JOT_REFRESH_SESSION_LIMIT: '100000',
        // The login storms sign one account in from 8 connections at once: attempts are reserved as failures before
        // their password check, so more at once than the free failures (5) would be refused as locked. Raised out of the
        // way; every attempt is still reserved and forgotten as in service.
        JOT_LOGIN_LOCKOUT: '1000/1s',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jot-server exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, base };
    if (Date.now() > deadline) throw new Error('jot-server did not become ready within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The sessions `seed` makes for `profile`'s rounds: the refresh pool loses up to `connections` chains per run (its
 * last requests in flight), so it holds spares for every run, plus the first session (whoami's token, login's account).
 */
export function seedCount(profile) {
  return profile.connections * (2 * profile.rounds + 1) + 1;
}

/** Registers one user and signs it in `count` times (4 at a time): `count` sessions and their token responses. */
export async function seed(base, count) {
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  await postJSON(`${base}/api/register`, { email, password: PASSWORD });
  const sessions = [];
  while (sessions.length < count) {
    const batch = Math.min(4, count - sessions.length);
    const logins = Array.from({ length: batch }, () =>
      postJSON(`${base}/api/login`, { email, password: PASSWORD }),
    );
    for (const login of await Promise.all(logins)) sessions.push({ email, ...login });
  }
  return sessions;
}

/**
 * One autocannon run; returns answered requests (2xx), failures (`bad`: non-2xx answers, errors, timeouts; each also
 * by itself, and the answers by status code), seconds and the latency p99 (ms).
 */
export async function load(options) {
  const result = await autocannon(options);
  return {
    ok: result['2xx'],
    bad: result.non2xx + result.errors + result.timeouts,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]),
    ),
    seconds: result.duration,
    p99: result.latency.p99,
  };
}

/**
 * CPU seconds so far of each PostgreSQL backend serving `database` (the server's pool, its LISTEN connection and
 * autovacuum on that database; never the bench's own connection, which is on another database), by pid.
 */
async function pgCpu(pg, database) {
  const byPid = new Map();
  if (!pg) return byPid;
  const { rows } = await pg.query('select pid from pg_stat_activity where datname = $1', [database]);
  for (const { pid } of rows) byPid.set(pid, cpuSeconds(pid));
  return byPid;
}

/**
 * The backends' CPU between two readings: each backend's growth, a new one's whole CPU. A backend that ended
 * meanwhile takes its CPU with it (subtracting its first reading would count less than nothing).
 */
function pgCpuUsed(before, after) {
  let used = 0;
  for (const [pid, cpu] of after) used += cpu - (before.get(pid) ?? 0);
  return used;
}

/**
 * Runs `options` under load, measuring the server's (and its database's) CPU: `cpu` in all, `mainCpu` on its main
 * thread (the event loop) and `otherCpu` on its other threads (libuv's pool: argon2, RS signing; V8's helpers).
 */
export async function measured(server, db, options) {
  const before = cpuSeconds(server.child.pid);
  const threadsBefore = threadCpuSeconds(server.child.pid);
  const pgBefore = await pgCpu(db?.pg, db?.name);
  const run = await load(options);
  const cpu = cpuSeconds(server.child.pid) - before;
  const threads = threadCpuSeconds(server.child.pid);
  const pgUsed = pgCpuUsed(pgBefore, await pgCpu(db?.pg, db?.name));
  return {
    ...run,
    cpu,
    mainCpu: threads.main - threadsBefore.main,
    otherCpu: threads.others - threadsBefore.others,
    pgCpu: pgUsed,
    rps: run.ok / run.seconds,
  };
}

/**
 * The endpoints under test, as autocannon options. Refresh tokens are a shared pool: a request takes one, its
 * response puts the successor back (autocannon resets a connection's context after every request, so the chain
 * cannot live there). A run's last in-flight requests lose their chains, so the pool is seeded with spares.
 */
export function scenarios(base, sessions, profile, client) {
  const pool = sessions.slice(1).map((s) => s.refresh_token);
  return {
    ...(client && {
      'client credentials': () => ({
        url: `${base}/oauth/token`,
        method: 'POST',
        connections: profile.connections,
        duration: profile.seconds,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials&scope=read',
      }),
    }),
    refresh: () => ({
      url: base,
      connections: profile.connections,
      duration: profile.seconds,
      requests: [
        {
          method: 'POST',
          path: '/api/token/refresh',
          headers: { 'content-type': 'application/json' },
          setupRequest(request) {
            request.body = JSON.stringify({ refresh_token: pool.shift() ?? 'pool-exhausted' });
            return request;
          },
          onResponse(status, body) {
            if (status === 200) pool.push(JSON.parse(body).refresh_token);
          },
        },
      ],
    }),
    whoami: () => ({
      url: `${base}/api/whoami`,
      connections: profile.connections,
      duration: profile.seconds,
      headers: { authorization: `Bearer ${sessions[0].access_token}` },
    }),
    login: () => ({
      url: `${base}/api/login`,
      method: 'POST',
      connections: profile.loginConnections,
      duration: profile.seconds,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: sessions[0].email, password: PASSWORD }),
    }),
  };
}

/** Registers a client-credentials client (secret, `client_secret_basic`) with the admin's fresh token. */
export async function registerClient(base, adminToken) {
  const response = await fetch(`${base}/api/admin/clients`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      name: 'bench service',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      scopes: ['read'],
      audiences: ['https://api.bench'],
    }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`registering the bench client: ${response.status} ${text}`);
  const { client, client_secret: secret } = JSON.parse(text);
  return { id: client.client_id, secret };
}

/**
 * The raw argon2id verify rate of the binding the server uses (`@node-rs/argon2`), per CPU-second of this process:
 * the server's default parameters and as many verifications at once as the server runs (`HASHING_CONCURRENCY`, from
 * the built server), for `seconds`. Returns the verifications and the CPU seconds they took.
 */
export async function rawArgon2(seconds) {
  const argon2 = await import('@node-rs/argon2');
  const { defaults } = await import(pathToFileURL(join(SERVER_DIST, 'config/defaults.js')).href);
  const { HASHING_CONCURRENCY } = await import(
    pathToFileURL(join(SERVER_DIST, 'services/passwords.js')).href
  );
  const hash = await argon2.hash(PASSWORD, {
    algorithm: 2, // Argon2id
    memoryCost: defaults.argon2MemoryKib,
    timeCost: defaults.argon2TimeCost,
    parallelism: defaults.argon2Parallelism,
  });
  const start = process.cpuUsage();
  const until = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: HASHING_CONCURRENCY }, async () => {
      while (Date.now() < until) {
        await argon2.verify(hash, PASSWORD);
        done++;
      }
    }),
  );
  const used = process.cpuUsage(start);
  return { done, cpu: (used.user + used.system) / 1e6, concurrency: HASHING_CONCURRENCY };
}

/** Creates a throwaway PostgreSQL database, or undefined when PostgreSQL is not reachable. */
export async function pgDatabase(log) {
  let pg;
  try {
    const { default: pgLib } = await import('pg');
    pg = new pgLib.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 3000 });
    await pg.connect();
  } catch (error) {
    log(`auth: PostgreSQL not reachable (${error.message}); skipping the PostgreSQL rows`);
    return undefined;
  }
  const name = `jot_bench_${randomBytes(4).toString('hex')}`;
  await pg.query(`create database ${name}`);
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  return {
    pg,
    name,
    url: url.href,
    async drop() {
      await pg.query(`drop database if exists ${name} with (force)`);
      await pg.end();
    },
  };
}

/**
 * A login storm with a paced `/healthz` probe beside it (bench/lib/probe.js): the probe's latencies show whether
 * hashing starves the event loop. It is a storm of its own, after the measured one, so the probe's requests are not
 * counted in the login CPU.
 */
async function probedLoginStorm(server, plan, profile) {
  const probe = probeLatency(`${server.base}/healthz`, { seconds: profile.seconds });
  await load(plan.login());
  return probe;
}

/**
 * `profile.rounds` interleaved rounds of every endpoint; the samples per endpoint. With `sqliteExtras` (the SQLite
 * server, where the login targets are judged), each measured login storm is followed by the raw argon2id rate
 * (`rawArgon2`), so the two are compared round by round under the same load on the machine, and by a second storm
 * with the `/healthz` probe.
 */
async function runRounds(server, db, plan, profile, log, sqliteExtras = false) {
  const samples = { refresh: [], whoami: [], login: [], 'client credentials': [] };
  const health = { latencies: [], failed: 0 };
  const argon2 = [];
  for (let round = 0; round < profile.rounds; round++) {
    for (const name of Object.keys(samples)) {
      samples[name].push(await measured(server, db, plan[name]()));
      if (name === 'login' && sqliteExtras) {
        argon2.push(await rawArgon2(profile.seconds));
        const probe = await probedLoginStorm(server, plan, profile);
        health.latencies.push(...probe.latencies);
        health.failed += probe.failed;
      }
      log(
        `auth ${db ? 'postgres' : 'sqlite'} round ${round + 1} ${name}: ${Math.round(samples[name].at(-1).rps)} req/s`,
      );
    }
  }
  return {
    samples,
    health: sqliteExtras ? latencySummary(health.latencies, health.failed) : undefined,
    argon2,
  };
}

/** An endpoint's medians over its rounds (per CPU-second, with and without the database, req/s; CPU split). */
function summary(list) {
  return {
    perCpu: median(list.map((s) => s.ok / s.cpu)),
    perCpuWithDb: median(list.map((s) => s.ok / (s.cpu + s.pgCpu))),
    rps: median(list.map((s) => s.rps)),
    mainCpuUs: median(list.map((s) => (s.mainCpu / s.ok) * 1e6)),
    otherCpuUs: median(list.map((s) => (s.otherCpu / s.ok) * 1e6)),
    bad: list.reduce((n, s) => n + s.bad, 0),
  };
}

/** One database's row: a server of its own, seeded, every endpoint over the rounds. */
async function benchDialect(dialect, { dir, kek, profile, log }) {
  const db = dialect === 'postgres' ? await pgDatabase(log) : undefined;
  if (dialect === 'postgres' && !db) return undefined;
  const server = await startServer({
    JOT_DATA_DIR: join(dir, dialect),
    JOT_KEK: kek,
    ...(db ? { JOT_DATABASE_URL: db.url } : {}),
  });
  try {
    const count = seedCount(profile);
    log(`auth ${dialect}: seeding ${count} sessions…`);
    const sessions = await seed(server.base, count);
    const client = await registerClient(server.base, sessions[0].access_token);
    const plan = scenarios(server.base, sessions, profile, client);
    const { samples, health, argon2 } = await runRounds(server, db, plan, profile, log, dialect === 'sqlite');
    if (db) log('auth postgres: the floor of a read and of a committed write…');
    const floor = db ? await pgFloor(db.url, profile.seconds) : undefined;
    return {
      dialect,
      ...(floor && { floor }),
      ...Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, summary(list)])),
      health,
      load: loadavg()[0],
      ...(argon2.length && {
        argon2PerCpu: median(argon2.map((r) => r.done / r.cpu)),
        argon2Concurrency: argon2[0].concurrency,
        // Round by round: each login storm against the raw rate measured right after it.
        loginVsArgon2: median(samples.login.map((s, i) => s.ok / s.cpu / (argon2[i].done / argon2[i].cpu))),
      }),
    };
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    await db?.drop();
  }
}

/** Runs the section: rows per database, each endpoint's medians over the rounds. */
export async function benchAuth(profile, log) {
  const rows = [];
  const dir = mkdtempSync(join(tmpdir(), 'jot-bench-auth-'));
  const kek = randomBytes(32).toString('hex');
  try {
    for (const dialect of ['sqlite', 'postgres']) {
      const row = await benchDialect(dialect, { dir, kek, profile, log });
      if (row) rows.push(row);
    }
    log('auth: RS256 signing cost…');
    const sqlite = rows.find((row) => row.dialect === 'sqlite');
    return {
      rows,
      argon2PerCpu: sqlite?.argon2PerCpu,
      argon2Concurrency: sqlite?.argon2Concurrency,
      rsSignCpuUs: rsSignCpuUs(),
      cores: cpus().length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
