/**
 * `node bench/profile.js <refresh|whoami|login|client-credentials> [--seconds=8] [--keep=DIR] [--postgres]`: runs one
 * auth-server endpoint under load with the server started with `--cpu-prof` (RS256, the bench's settings; SQLite, or
 * with `--postgres` a throwaway database on the bench's PostgreSQL, `JOT_BENCH_DATABASE_URL`) and prints
 * the top self-time entries of the profile as a Markdown table — the "Profiles" of docs/profiles.md come from here.
 * The `.cpuprofile` is written to a temporary directory and deleted, unless `--keep=DIR` names where to keep it
 * (open it in Chrome DevTools or speedscope). Profiles are never committed.
 *
 * Builds nothing: run `npm run build` (or `npm run bench -- --only=auth --quick`, which builds the server) first.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import autocannon from 'autocannon';

import { pgDatabase, seed, scenarios, startServer } from './auth/run-auth.js';
import { topSelfTime } from './lib/cpuprofile.js';
import { postJSON } from './lib/net.js';
import { threadCpuSeconds } from './lib/proc.js';

const ENDPOINTS = ['refresh', 'whoami', 'login', 'client-credentials'];

function parseArgs(argv) {
  const args = { endpoint: undefined, seconds: 8, keep: undefined, postgres: false };
  for (const arg of argv) {
    if (arg.startsWith('--seconds=')) args.seconds = Number(arg.slice(10));
    else if (arg.startsWith('--keep=')) args.keep = arg.slice(7);
    else if (arg === '--postgres') args.postgres = true;
    else if (ENDPOINTS.includes(arg)) args.endpoint = arg;
    else throw new Error(`unknown argument ${arg}; usage: node bench/profile.js <${ENDPOINTS.join('|')}>`);
  }
  if (args.endpoint === undefined) throw new Error(`name an endpoint: ${ENDPOINTS.join(', ')}`);
  if (!(args.seconds > 0)) throw new Error('--seconds must be a positive number');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'jot-profile-'));
  const profiles = join(dir, 'profiles');
  mkdirSync(profiles);
  const db = args.postgres ? await pgDatabase((line) => console.error(line)) : undefined;
  let loopCpuShare;
  if (args.postgres && db === undefined) throw new Error('--postgres: PostgreSQL is not reachable');
  const server = await startServer(
    {
      JOT_DATA_DIR: join(dir, 'data'),
      JOT_KEK: randomBytes(32).toString('hex'),
      ...(db && { JOT_DATABASE_URL: db.url }),
    },
    undefined,
    ['--cpu-prof', `--cpu-prof-dir=${profiles}`],
  ).catch(async (error) => {
    await db?.drop(); // the throwaway database goes with a server that never started
    throw error;
  });
  try {
    const connections = args.endpoint === 'login' ? 8 : 50;
    const sessions = await seed(server.base, connections * 3 + 1);
    let client;
    if (args.endpoint === 'client-credentials') {
      const made = await postJSON(
        `${server.base}/api/admin/clients`,
        {
          name: 'profile',
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['client_credentials'],
          scopes: ['read'],
          audiences: ['https://api.bench'],
        },
        sessions[0].access_token,
      );
      client = { id: made.client.client_id, secret: made.client_secret };
    }
    const plan = scenarios(
      server.base,
      sessions,
      { connections, loginConnections: connections, seconds: args.seconds },
      client,
    );
    const before = threadCpuSeconds(server.child.pid);
    const startedAt = process.hrtime.bigint();
    const result = await autocannon(
      plan[args.endpoint === 'client-credentials' ? 'client credentials' : args.endpoint](),
    );
    const wallS = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const after = threadCpuSeconds(server.child.pid);
    // The sampler counts a thread's samples while it waits to be scheduled again too (after waking a PostgreSQL
    // backend with a write, say); /proc counts only the CPU it used. The two side by side show the difference.
    loopCpuShare = (after.main - before.main) / wallS;
    console.error(
      `${args.endpoint}: ${result['2xx']} answered, ${result.non2xx + result.errors + result.timeouts} failed`,
    );
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    await db?.drop();
  }
  const [file] = readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('the server wrote no .cpuprofile (did it exit cleanly?)');
  const { rows, byFile, busyShare } = topSelfTime(
    JSON.parse(readFileSync(join(profiles, file), 'utf8')),
    args.seconds,
  );
  console.log(`| self time | function | where |\n| ---: | --- | --- |`);
  for (const r of rows) console.log(`| ${(r.share * 100).toFixed(1)} % | \`${r.name}\` | ${r.where} |`);
  console.log(`\n| self time | file or package |\n| ---: | --- |`);
  for (const r of byFile) console.log(`| ${(r.share * 100).toFixed(1)} % | ${r.where} |`);
  console.log(
    `\n(shares of non-idle samples; the main thread was busy ${(busyShare * 100).toFixed(0)} % of the run by its ` +
      `samples, and used ${(loopCpuShare * 100).toFixed(0)} % of a core by /proc: samples also count the time ` +
      'it waited to run again, charged to the call it made last)',
  );
  if (args.keep !== undefined) {
    mkdirSync(args.keep, { recursive: true });
    renameSync(join(profiles, file), join(args.keep, `${args.endpoint}.cpuprofile`));
  }
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
