/**
 * `npm run bench` stays answerable: the load it puts on the built server is answered 2xx, run after run. The bench
 * is not part of `npm test`, and features added later broke it without anyone noticing (issue #15): the per-session
 * refresh rotation limit (429 ERR_REFRESH_LIMITED after 30 rotations) refused the bench's refresh chains in its
 * third round (and stopped its growth section), and the reserve-before-check sign-in throttle refused its login storm (8 connections, one
 * account) as locked. The bench's server raises both limits (bench/auth/run-auth.js, `startServer`); this test runs
 * the bench's own scenarios against that server long enough for either limit to trip if it were not raised, and the
 * HTTP section's contenders' pre-flight check (a token accepted, a tampered one refused).
 *
 * Nothing here is timed: a run's figures are the benchmark's, never a test's. Only that every request was answered
 * 2xx, and some were. It lives in the server's tests because the root Vitest config collects no files under bench/;
 * it drives the BUILT server and packages (packages/server/dist, packages/verify/dist), as the bench does.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createSigner, importPEM } from '@jot/jose';

// bench/ is plain JavaScript without declarations (and the root tsconfig has no allowJs): its modules are `any` here.
// @ts-expect-error -- no declaration file
import * as auth from '../../../bench/auth/run-auth.js';
// @ts-expect-error -- no declaration file
import * as http from '../../../bench/http/run-http.js';

/** A process the test started (a jot-server or a contender). */
interface Started {
  child: ChildProcess;
}

/** One scenario's autocannon run, as the bench's `load` reports it. */
interface Run {
  ok: number;
  bad: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statuses: Record<string, number>;
}

/**
 * The bench's rounds, short and with few connections, but with the full bench's login storm: 8 sign-ins of one account
 * at once, more than the 5 failures the default throttle allows, since each is reserved as a failure until its
 * password is checked. The refresh pool holds `seedCount` − 1 = 28 sessions and each refresh rotates the pool's next
 * one, so a session's 31st rotation, which the default limit refuses, comes after 28 · 30 + 1 = 841 refreshes in all.
 */
const PROFILE = {
  rounds: 3,
  seconds: 1,
  connections: 4,
  loginConnections: auth.AUTH_PROFILES.default.loginConnections,
};
/**
 * Each run is a number of requests (autocannon's `amount`, which overrides the scenario's `seconds`), so that the
 * limits are reached however fast the machine is, and no run is longer than it needs to be: 3 × 350 refreshes, more
 * than the 841 that reach a session's 31st rotation; two sign-ins per connection, the first 8 of them at once; and a
 * few answers per connection of the two scenarios that no limit concerns. (Checked: with either of the bench's
 * raised limits left out of `startServer`, this test fails: refresh in round 3, login in every round. The refresh
 * limit is both JOT_REFRESH_SESSION_LIMIT and JOT_REFRESH_ANOMALY_LIMIT, which raises the former when it is unset.)
 */
const AMOUNT: Record<string, number> = {
  refresh: 350,
  whoami: 100,
  login: 2 * PROFILE.loginConnections,
  'client credentials': 100,
};
/** The bench's order within a round (run-auth.js, `runRounds`). */
const ORDER = ['refresh', 'whoami', 'login', 'client credentials'];

const started = new Set<Started>();
const dirs: string[] = [];

/** SIGTERM, then SIGKILL if the process has not exited within 10 s; resolves once it has exited. */
async function stop({ child }: Started): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all([...started].map(stop));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function described(round: number, name: string, run: Run): string {
  const statuses = Object.entries(run.statuses)
    .map(([code, count]) => `${code}: ${count}`)
    .join(', ');
  return (
    `round ${round} ${name}: ${run.ok} answered 2xx; ${run.non2xx} non-2xx (${statuses}), ` +
    `${run.errors} errors, ${run.timeouts} timeouts`
  );
}

describe("the bench's auth-server scenarios", () => {
  let server: Started & { base: string };

  beforeAll(async () => {
    server = await auth.startServer({
      JOT_DATA_DIR: tempDir('jot-bench-scenarios-'),
      JOT_KEK: randomBytes(32).toString('hex'),
    });
    started.add(server);
  });

  it('answers every request of refresh, whoami, login and client credentials 2xx over the rounds (no refresh limit, no sign-in lock)', async () => {
    const sessions = await auth.seed(server.base, auth.seedCount(PROFILE));
    const client = await auth.registerClient(server.base, sessions[0].access_token);
    const plan = auth.scenarios(server.base, sessions, PROFILE, client);
    expect(Object.keys(plan).sort()).toEqual([...ORDER].sort());

    const failed: string[] = [];
    for (let round = 1; round <= PROFILE.rounds; round++) {
      for (const name of ORDER) {
        // autocannon looks whether a run is over once per sample (every second by default): every 100 ms here.
        const run: Run = await auth.load({ ...plan[name](), amount: AMOUNT[name], sampleInt: 100 });
        if (run.bad > 0 || run.ok === 0) failed.push(described(round, name, run));
      }
    }
    expect(failed).toEqual([]);
  });
});

describe("the bench's resource-server contenders", () => {
  for (const alg of http.HTTP_ALGS as string[]) {
    it(`${alg}: each contender answers 200 to the bench's token and 401 to a tampered one`, async () => {
      const { material, jwks, tokenFor } = await http.tokenIssuer(
        { createSigner, importPEM },
        alg,
        tempDir('jot-bench-contenders-'),
      );
      const servers = new Map<string, Started>();
      try {
        const failures = await http.startContenders(servers, alg, jwks.url, material.pemFile, tokenFor(0));
        expect(failures).toEqual([]);
        expect([...servers.keys()]).toEqual(http.CONTENDERS);
        // Each runs with the thread pool the report says: the advised size, or Node's default for the two others.
        for (const [name, { child }] of servers) {
          const environ = readFileSync(`/proc/${child.pid}/environ`, 'latin1').split('\0');
          const pool = environ.find((entry) => entry.startsWith('UV_THREADPOOL_SIZE='));
          const threads = http.poolThreadsOf(name);
          expect(pool, name).toBe(threads === undefined ? undefined : `UV_THREADPOOL_SIZE=${threads}`);
        }
      } finally {
        // Stopped here rather than after all: each algorithm's processes are done with once checked.
        for (const contender of servers.values()) started.add(contender);
        await Promise.all([...servers.values()].map(stop));
        jwks.close();
      }
    });
  }
});
