/**
 * The growth section of `npm run bench`: refresh, whoami and login on SQLite with 1 k, 100 k and 1 M users and
 * sessions in the database, each figure per server CPU-second and as a ratio to the smallest database (flat ≈ 1.0×,
 * target within ±10 %).
 *
 * The rows are cloned in bulk from a real account and session made through the API (INSERT … SELECT over a
 * generated sequence, every unique text column prefixed per row), so they have exactly the shape the server writes,
 * whatever migrations have added.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import { median } from '../lib/proc.js';
import { createTargets } from '../lib/targets.js';
import { postJSON } from '../lib/net.js';
import { PASSWORD, measured, scenarios, seed, startServer } from './run-auth.js';

export const GROWTH_SIZES = [1_000, 100_000, 1_000_000];
export const GROWTH_HEADING = '## Growth (SQLite, 1 k → 1 M users and sessions)';
const TOLERANCE = 0.1;

/** Text columns of `table` that a unique index covers (the clones must differ there). */
function uniqueTextColumns(db, table) {
  const columns = new Map(db.pragma(`table_info(${table})`).map((c) => [c.name, c]));
  const unique = new Set(
    [...columns.values()].filter((c) => c.pk === 1 && /text/i.test(c.type)).map((c) => c.name),
  );
  for (const index of db.pragma(`index_list(${table})`)) {
    if (!index.unique) continue;
    for (const { name } of db.pragma(`index_info(${index.name})`)) {
      if (/text/i.test(columns.get(name)?.type ?? '')) unique.add(name);
    }
  }
  return { columns: [...columns.keys()], unique };
}

/**
 * Adds clones numbered `from`..`to` (exclusive) of the user `userId` and of one session of it; clone n of the
 * session belongs to clone n of the user.
 */
function cloneRows(db, userId, sessionId, from, to) {
  const users = uniqueTextColumns(db, 'users');
  const sessions = uniqueTextColumns(db, 'sessions');
  const select = (spec, overrides) =>
    spec.columns
      .map((c) => overrides[c] ?? (spec.unique.has(c) ? `'g' || seq.n || '-' || t.${c}` : `t.${c}`))
      .join(', ');
  const seq = 'with recursive seq(n) as (select ? union all select n + 1 from seq where n + 1 < ?)';
  db.transaction(() => {
    db.prepare(
      `insert into users (${users.columns.join(', ')}) ${seq} select ${select(users, {})} from seq, users t where t.id = ?`,
    ).run(from, to, userId);
    db.prepare(
      `insert into sessions (${sessions.columns.join(', ')}) ${seq} select ${select(sessions, {
        user_id: `'g' || seq.n || '-' || t.user_id`,
      })} from seq, sessions t where t.id = ?`,
    ).run(from, to, sessionId);
  })();
}

/**
 * Rounds and seconds per endpoint. Every size has a server of its own and the sizes are measured in interleaved
 * rounds (round 1 of every size, then round 2, …), so a burst of other work on the machine slows every size of a
 * round alike; each size's ratio is the median of its rounds' ratios to the smallest database in the same round.
 * Login answers about a hundred times fewer requests a second than refresh, so its rounds are longer.
 */
export const GROWTH_PROFILES = {
  default: { rounds: 5, seconds: { refresh: 3, whoami: 3, login: 6 } },
  quick: { rounds: 2, seconds: { refresh: 1, whoami: 1, login: 2 } },
};
const ENDPOINTS = ['refresh', 'whoami', 'login'];

/** Copies the database in `from` to `to` (a directory) and grows the copy to `size` users and sessions. */
async function grownCopy(from, to, size, seedRows) {
  mkdirSync(to, { recursive: true });
  const source = new Database(join(from, 'jot.db'), { readonly: true });
  try {
    await source.backup(join(to, 'jot.db'));
  } finally {
    source.close();
  }
  const db = new Database(join(to, 'jot.db'));
  try {
    const have = db.prepare('select count(*) as n from users').get().n;
    if (have < size) cloneRows(db, seedRows.userId, seedRows.sessionId, have, size);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/**
 * One server per size, each on its own copy of one seeded database grown to that size: `{ size, server, plan }`
 * in the order of `GROWTH_SIZES`. The copies hold the same sessions, so every plan starts from the same refresh
 * tokens, each server rotating its own.
 */
async function startSizes(dir, profile, log) {
  const kek = randomBytes(32).toString('hex');
  const base = join(dir, String(GROWTH_SIZES[0]));
  const first = await startServer({ JOT_DATA_DIR: base, JOT_KEK: kek });
  const sizes = [{ size: GROWTH_SIZES[0], server: first }];
  try {
    // Each refresh run strands up to `connections` chains (its last requests in flight): spares for every run.
    const count = profile.connections * (profile.rounds + 2) + 1;
    log(`growth: seeding ${count} sessions…`);
    const sessions = await seed(first.base, count);
    const db = new Database(join(base, 'jot.db'));
    db.pragma('busy_timeout = 10000');
    const userId = db.prepare('select id from users where email = ?').get(sessions[0].email).id;
    const sessionId = db.prepare('select id from sessions where user_id = ? limit 1').get(userId).id;
    const have = db.prepare('select count(*) as n from users').get().n;
    if (have < GROWTH_SIZES[0]) cloneRows(db, userId, sessionId, have, GROWTH_SIZES[0]);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    for (const size of GROWTH_SIZES.slice(1)) {
      log(`growth: a copy with ${size.toLocaleString('en-US')} users and sessions…`);
      const to = join(dir, String(size));
      await grownCopy(base, to, size, { userId, sessionId });
      sizes.push({ size, server: await startServer({ JOT_DATA_DIR: to, JOT_KEK: kek }) });
    }
    for (const entry of sizes) {
      // Access tokens name their issuer, which is each server's own URL: whoami needs one from its own server.
      const own = await postJSON(`${entry.server.base}/api/login`, {
        email: sessions[0].email,
        password: PASSWORD,
      });
      entry.plan = scenarios(entry.server.base, [{ ...sessions[0], ...own }, ...sessions.slice(1)], profile);
    }
    return sizes;
  } catch (error) {
    await stopSizes(sizes);
    throw error;
  }
}

async function stopSizes(sizes) {
  for (const { server } of sizes) {
    server.child.kill('SIGTERM');
    await new Promise((resolve) =>
      server.child.exitCode !== null ? resolve() : server.child.once('exit', resolve),
    );
  }
}

/** One run of `endpoint` against one size for its profile's seconds; requests per server CPU-second. */
async function perCpu({ server, plan, size }, endpoint, profile) {
  const run = await measured(server, undefined, { ...plan[endpoint](), duration: profile.seconds[endpoint] });
  if (run.ok === 0) throw new Error(`growth: ${endpoint} at ${size} answered nothing (${run.bad} failed)`);
  return run.ok / run.cpu;
}

/** Runs the section: one row per database size, each endpoint's rounds and its ratios to the smallest size. */
export async function benchGrowth(profile, log) {
  const dir = mkdtempSync(join(tmpdir(), 'jot-bench-growth-'));
  let sizes = [];
  try {
    sizes = await startSizes(dir, profile, log);
    // One unmeasured round first: otherwise the first measured round also pays for the JIT's warm-up.
    log('growth: warm-up round…');
    for (const entry of sizes) for (const name of ENDPOINTS) await perCpu(entry, name, profile);
    const rounds = sizes.map(() => Object.fromEntries(ENDPOINTS.map((name) => [name, []])));
    for (let round = 0; round < profile.rounds; round++) {
      for (const name of ENDPOINTS) {
        for (const [i, entry] of sizes.entries()) rounds[i][name].push(await perCpu(entry, name, profile));
      }
      log(
        `growth round ${round + 1}: login ${rounds.map((r) => Math.round(r.login.at(-1))).join(' / ')}/CPU-s`,
      );
    }
    return sizes.map(({ size }, i) => ({
      size,
      rounds: rounds[i],
      ...Object.fromEntries(ENDPOINTS.map((name) => [name, median(rounds[i][name])])),
      ratios: Object.fromEntries(
        ENDPOINTS.map((name) => [name, rounds[i][name].map((value, r) => value / rounds[0][name][r])]),
      ),
    }));
  } finally {
    await stopSizes(sizes);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Markdown for the growth rows, each size as a ratio to the smallest (the median of the rounds' ratios). */
export function renderGrowth(rows, profile) {
  const [base] = rows;
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const targets = createTargets({ tolerance: TOLERANCE, baseSize: base.size });
  const verdicts = [];
  const cell = (row, key) => {
    if (row === base) return `${fmt(row[key])} (1.00×)`;
    const ratio = median(row.ratios[key]);
    const ok = Math.abs(ratio - 1) <= TOLERANCE;
    verdicts.push(
      targets.check(
        `growth.${key}.${row.size}`,
        ok,
        `${key} at ${fmt(row.size)} users and sessions: ${ratio.toFixed(2)}× the ${fmt(base.size)} figure (target within ±${TOLERANCE * 100} %)`,
        { endpoint: key, size: row.size, ratio, ratios: row.ratios[key] },
      ),
    );
    return `${fmt(row[key])} (${ratio.toFixed(2)}× ${ok ? '✅' : '❌'})`;
  };
  const seconds = ENDPOINTS.map((name) => `${name} ${profile.seconds[name]} s`).join(', ');
  const lines = [
    GROWTH_HEADING,
    '',
    'Requests per second of server CPU with N users and N sessions in the SQLite database (cloned in bulk from a real ' +
      `account), each size on a server of its own, measured in ${profile.rounds} interleaved rounds (${seconds}); ` +
      `the median per size, and as a ratio to the ${fmt(base.size)}-user database the median of the rounds' ratios ` +
      `(target: within ±${TOLERANCE * 100} %).`,
    '',
    '| users & sessions | refresh | whoami | login |',
    '| ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) => `| ${fmt(r.size)} | ${cell(r, 'refresh')} | ${cell(r, 'whoami')} | ${cell(r, 'login')} |`,
    ),
    '',
  ];
  // The table shows every verdict; the missed ones are listed with their reasons.
  const missedLines = verdicts.filter((_, i) => !targets.results[i].ok);
  if (missedLines.length) lines.push(...missedLines, '');
  return { markdown: lines.join('\n'), missed: targets.missed };
}
