/**
 * The propagation section of `npm run bench`: how long a logout takes to reach replicated `@jot/verify` verifiers.
 * Two `jot-server` instances share a PostgreSQL database of their own and a Redis started here on a spare port;
 * 1, 4 and 8 verifiers stream the revocation feed from instance A (the one that logs out) or from instance B. Each
 * sample signs in, warms every verifier on the token, logs out on A and times until every verifier refuses it
 * (each verifier is polled every millisecond). Reports p50/p99/max per setting; target p99 ≤ 100 ms.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { freePort, postJSON } from './lib/net.js';
import { median } from './lib/proc.js';
import { createTargets } from './lib/targets.js';
import { startServer } from './auth/run-auth.js';
import { owned } from './lib/children.js';

export const PROPAGATION_HEADING = '## Revocation propagation (logout → refusal at replicated verifiers)';
export const PROPAGATION_TARGET_MS = 100;
const VERIFIER_COUNTS = [1, 4, 8];
const PG_ADMIN = process.env.JOT_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PASSWORD = 'bench correct horse battery';

/** A redis-server of our own (no persistence) on a spare port. */
async function startRedis() {
  const port = await freePort();
  const child = owned(
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    ),
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise((resolve) => {
      const socket = createServer().listen(port, '127.0.0.1');
      socket.once('listening', () => socket.close(() => resolve(false)));
      socket.once('error', () => resolve(true));
    });
    if (up) return { child, url: `redis://127.0.0.1:${port}` };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Polls `verifier.verify(token)` every millisecond until it refuses; resolves with the time of refusal. */
async function refusedAt(verifier, token, deadline) {
  for (;;) {
    try {
      await verifier.verify(token);
    } catch {
      return performance.now();
    }
    if (performance.now() > deadline) return Infinity;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Runs the section: rows `{ verifiers, from, p50, p99, max, samples }`. */
export async function benchPropagation(verifyLib, { samples }, log) {
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 3000 });
  await admin.connect();
  const name = `jot_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`create database ${name}`);
  const dbUrl = new URL(PG_ADMIN);
  dbUrl.pathname = `/${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'jot-bench-propagation-'));
  const redis = await startRedis();
  const secret = randomBytes(32).toString('base64url');
  const portA = await freePort();
  const issuer = `http://127.0.0.1:${portA}`;
  const env = {
    JOT_DATABASE_URL: dbUrl.href,
    JOT_REDIS_URL: redis.url,
    JOT_KEK: randomBytes(32).toString('hex'),
    JOT_ISSUER: issuer,
    JOT_REVOCATION_SECRET: secret,
    JOT_SIGNING_ALG: 'ES256',
  };
  const servers = [];
  const rows = [];
  try {
    servers.push(await startServer({ ...env, JOT_DATA_DIR: join(dir, 'a') }, portA));
    servers.push(await startServer({ ...env, JOT_DATA_DIR: join(dir, 'b') }));
    const [a, b] = servers;
    const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
    await postJSON(`${a.base}/api/register`, { email, password: PASSWORD });
    for (const count of VERIFIER_COUNTS) {
      for (const [from, server] of [
        ['A', a],
        ['B', b],
      ]) {
        const verifiers = Array.from({ length: count }, () =>
          verifyLib.createVerifier({
            issuer,
            audience: issuer,
            jwksUri: `${server.base}/.well-known/jwks.json`,
            revocation: {
              strategy: 'replicated',
              secret,
              feedUrl: `${server.base}/api/revocations`,
              streamUrl: `${server.base}/api/revocations/stream`,
            },
            logger: { info() {}, warn() {}, error() {} },
          }),
        );
        try {
          await Promise.all(verifiers.map((v) => v.ready()));
          const delays = [];
          for (let i = 0; i < samples; i++) {
            const { access_token: token } = await postJSON(`${a.base}/api/login`, {
              email,
              password: PASSWORD,
            });
            await Promise.all(verifiers.map((v) => v.verify(token)));
            const start = performance.now();
            const deadline = start + 10_000;
            const refusals = verifiers.map((v) => refusedAt(v, token, deadline));
            await postJSON(`${a.base}/api/logout`, undefined, token);
            delays.push(Math.max(...(await Promise.all(refusals))) - start);
          }
          rows.push({
            verifiers: count,
            from,
            p50: median(delays),
            p99: percentile(delays, 99),
            max: Math.max(...delays),
            samples,
          });
          log(`propagation ${count} verifier(s) from ${from}: p99 ${rows.at(-1).p99.toFixed(1)} ms`);
        } finally {
          await Promise.all(verifiers.map((v) => v.close()));
        }
      }
    }
  } finally {
    for (const { child } of servers) {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
    }
    redis.child.kill('SIGTERM');
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** Markdown for the propagation rows. */
export function renderPropagation(rows) {
  const fmt = (ms) => (Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : 'never (10 s)');
  const targets = createTargets();
  const verdicts = [];
  const lines = [
    PROPAGATION_HEADING,
    '',
    'Two `jot-server` instances (A and B) on one PostgreSQL database and one Redis; the user logs out on A; the ' +
      'verifiers stream the feed from A or from B. Time from sending the logout until every verifier refuses the ' +
      `token, over ${rows[0]?.samples ?? 0} logouts per row (target: p99 ≤ ${PROPAGATION_TARGET_MS} ms).`,
    '',
    '| verifiers | streaming from | p50 | p99 | max |',
    '| ---: | --- | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const ok = r.p99 <= PROPAGATION_TARGET_MS;
    verdicts.push(
      targets.check(
        `propagation.p99.${r.verifiers}-from-${r.from}`,
        ok,
        `${r.verifiers} verifier(s) streaming from ${r.from}: p99 ${fmt(r.p99)} (target ≤ ${PROPAGATION_TARGET_MS} ms)`,
        { ...r },
      ),
    );
    lines.push(
      `| ${r.verifiers} | ${r.from} | ${fmt(r.p50)} | ${ok ? fmt(r.p99) + ' ✅' : `**${fmt(r.p99)}** ❌`} | ${fmt(r.max)} |`,
    );
  }
  // The table shows every verdict; the missed ones are listed with their reasons.
  const missedLines = verdicts.filter((_, i) => !targets.results[i].ok);
  lines.push('', ...(missedLines.length ? [...missedLines, ''] : []));
  return { markdown: lines.join('\n'), missed: targets.missed };
}
