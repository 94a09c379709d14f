/**
 * `node bench/login-parts.js [--rounds=4] [--seconds=5]`: where a login's CPU beyond the argon2id hash goes, measured
 * in one run as interleaved rounds on the same machine (so a loaded host still gives usable paired differences).
 *
 * Two built `jot-server`s (SQLite, RS256, the bench's settings): A with the default argon2id cost, B with a cheap hash
 * (1 MiB, t = 1). Each round:
 * - A: a login storm (8 connections), its CPU per login split between the event loop and the other threads (/proc);
 * - B paced: a login storm on B at A's login rate (autocannon `overallRate`): the same bookkeeping at the same rate,
 *   without the 19 MiB hash beside it;
 * - B free: a login storm on B unpaced: the same bookkeeping at the rate the cheap hash allows;
 * - refresh on A (50 connections): what the bench's floor counts a login's bookkeeping at; and again paced at A's
 *   login rate (8 connections), the same request at the rate a login storm runs;
 * - the raw argon2id verification rate of the binding, in this process (`rawArgon2`, as the bench's anchor).
 *
 * A − B paced on the event loop is what the big hash beside the bookkeeping costs it (caches and the other core);
 * B paced − B free is what running it at a login's low rate costs (V8's lower tiers, waking the loop per request).
 * Builds nothing: run `npm run build` first.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { measured, rawArgon2, scenarios, seed, startServer } from './auth/run-auth.js';
import { median } from './lib/proc.js';

function parseArgs(argv) {
  const args = { rounds: 4, seconds: 5 };
  for (const arg of argv) {
    if (arg.startsWith('--rounds=')) args.rounds = Number(arg.slice(9));
    else if (arg.startsWith('--seconds=')) args.seconds = Number(arg.slice(10));
    else
      throw new Error(`unknown argument ${arg}; usage: node bench/login-parts.js [--rounds=4] [--seconds=5]`);
  }
  if (!(args.rounds >= 1) || !(args.seconds > 0)) throw new Error('--rounds and --seconds must be positive');
  return args;
}

async function server(env) {
  const dir = mkdtempSync(join(tmpdir(), 'jot-login-parts-'));
  const started = await startServer({
    JOT_DATA_DIR: join(dir, 'data'),
    JOT_KEK: randomBytes(32).toString('hex'),
    ...env,
  });
  return { ...started, dir };
}

const ms = (cpu, n) => (cpu / n) * 1e3;

async function main() {
  const { rounds, seconds } = parseArgs(process.argv.slice(2));
  const a = await server({});
  const b = await server({ JOT_ARGON2_MEMORY_KIB: '1024', JOT_ARGON2_TIME_COST: '1' });
  const rows = { A: [], 'B paced': [], 'B free': [] };
  const refresh = [];
  const refreshPaced = [];
  const raw = [];
  try {
    const profile = { connections: 50, loginConnections: 8, seconds };
    // Each refresh run loses the chains in flight when it ends (up to one per connection): spares for every round.
    const planA = scenarios(
      a.base,
      await seed(a.base, (profile.connections + profile.loginConnections) * (rounds + 2) + 1),
      profile,
    );
    const planB = scenarios(b.base, await seed(b.base, 4), profile);
    for (let round = 0; round < rounds; round++) {
      const runA = await measured(a, undefined, planA.login());
      const rate = Math.max(1, Math.round(runA.ok / runA.seconds));
      const paced = await measured(b, undefined, { ...planB.login(), overallRate: rate });
      const free = await measured(b, undefined, planB.login());
      for (const [name, run] of [
        ['A', runA],
        ['B paced', paced],
        ['B free', free],
      ]) {
        rows[name].push({
          main: ms(run.mainCpu, run.ok),
          other: ms(run.otherCpu, run.ok),
          total: ms(run.cpu, run.ok),
          rate: run.ok / run.seconds,
        });
      }
      const r = await measured(a, undefined, planA.refresh());
      refresh.push(ms(r.cpu, r.ok));
      const slow = await measured(a, undefined, { ...planA.refresh(), connections: 8, overallRate: rate });
      refreshPaced.push(ms(slow.cpu, slow.ok));
      const anchor = await rawArgon2(seconds);
      raw.push(ms(anchor.cpu, anchor.done));
      console.error(
        `round ${round + 1}: A ${rows.A.at(-1).main.toFixed(2)} / B paced ${rows['B paced'].at(-1).main.toFixed(2)} / ` +
          `B free ${rows['B free'].at(-1).main.toFixed(2)} ms of event loop per login; refresh ${refresh.at(-1).toFixed(2)} ms (${refreshPaced.at(-1).toFixed(2)} ms at the login rate); ` +
          `argon2id ${raw.at(-1).toFixed(2)} ms`,
      );
    }
  } finally {
    for (const s of [a, b]) {
      s.child.kill('SIGTERM');
      await new Promise((resolve) => s.child.once('exit', resolve));
      rmSync(s.dir, { recursive: true, force: true });
    }
  }
  const med = (list, key) => median(list.map((x) => x[key]));
  console.log(
    '| login storm | logins/s | event loop ms/login | other threads ms/login | whole process ms/login |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [name, list] of Object.entries(rows)) {
    console.log(
      `| ${name} | ${med(list, 'rate').toFixed(1)} | ${med(list, 'main').toFixed(2)} | ${med(list, 'other').toFixed(2)} | ${med(list, 'total').toFixed(2)} |`,
    );
  }
  const paired = (x, y) => median(rows[x].map((row, i) => row.main - rows[y][i].main));
  const argon2 = median(raw);
  const total = med(rows.A, 'total');
  console.log(
    `\nraw argon2id ${argon2.toFixed(2)} ms per verification; A beyond the hash ${(total - argon2).toFixed(2)} ms ` +
      `(login ${(argon2 / total).toFixed(2)}× the raw rate); refresh ${median(refresh).toFixed(2)} ms per request, ` +
      `${median(refreshPaced).toFixed(2)} ms at A's login rate (8 connections).\n` +
      `Event loop, paired medians: the big hash beside the bookkeeping (A − B paced) ${paired('A', 'B paced').toFixed(2)} ms; ` +
      `the low rate (B paced − B free) ${paired('B paced', 'B free').toFixed(2)} ms.`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
