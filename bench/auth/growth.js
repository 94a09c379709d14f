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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import { median } from '../lib/proc.js';
import { createTargets } from '../lib/targets.js';
import { measured, scenarios, seed, startServer } from './run-auth.js';

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

/** Runs the section: one row per database size. */
export async function benchGrowth(profile, log) {
  const dir = mkdtempSync(join(tmpdir(), 'jot-bench-growth-'));
  const rows = [];
  const server = await startServer({ JOT_DATA_DIR: dir, JOT_KEK: randomBytes(32).toString('hex') });
  try {
    const count = profile.connections * (2 * (profile.rounds * GROWTH_SIZES.length + 1) + 1) + 1;
    log(`growth: seeding ${count} sessions…`);
    const sessions = await seed(server.base, count);
    const plan = scenarios(server.base, sessions, profile);
    const db = new Database(join(dir, 'jot.db'));
    db.pragma('busy_timeout = 10000');
    const me = db.prepare('select id from users where email = ?').get(sessions[0].email);
    const mySession = db.prepare('select id from sessions where user_id = ? limit 1').get(me.id);
    let have = db.prepare('select count(*) as n from users').get().n;
    // One unmeasured round first: otherwise the smallest database, measured first, also pays for the JIT's
    // warm-up and every larger one looks faster than it (the ratio would measure warm-up, not growth).
    log('growth: warm-up round…');
    for (const name of ['refresh', 'whoami', 'login']) await measured(server, undefined, plan[name]());
    for (const size of GROWTH_SIZES) {
      if (have < size) {
        log(`growth: ${size.toLocaleString('en-US')} users and sessions…`);
        cloneRows(db, me.id, mySession.id, have, size);
        have = size;
      }
      db.pragma('wal_checkpoint(TRUNCATE)');
      const samples = { refresh: [], whoami: [], login: [] };
      for (let round = 0; round < profile.rounds; round++) {
        for (const name of Object.keys(samples))
          samples[name].push(await measured(server, undefined, plan[name]()));
      }
      const perCpu = (list) => list.map((s) => s.ok / s.cpu);
      rows.push({
        size,
        refresh: median(perCpu(samples.refresh)),
        whoami: median(perCpu(samples.whoami)),
        login: median(perCpu(samples.login)),
        rounds: Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, perCpu(list)])),
      });
      log(`growth ${size}: refresh ${Math.round(rows.at(-1).refresh)}/CPU-s`);
    }
    db.close();
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** Markdown for the growth rows, each size as a ratio to the smallest. */
export function renderGrowth(rows) {
  const [base] = rows;
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  const targets = createTargets({ tolerance: TOLERANCE, baseSize: base.size });
  const verdicts = [];
  const cell = (row, key) => {
    const ratio = row[key] / base[key];
    const ok = Math.abs(ratio - 1) <= TOLERANCE;
    if (row !== base) {
      verdicts.push(
        targets.check(
          `growth.${key}.${row.size}`,
          ok,
          `${key} at ${fmt(row.size)} users and sessions: ${ratio.toFixed(2)}× the ${fmt(base.size)} figure (target within ±${TOLERANCE * 100} %)`,
          { endpoint: key, size: row.size, ratio, rounds: row.rounds?.[key], baseRounds: base.rounds?.[key] },
        ),
      );
    }
    return `${fmt(row[key])} (${ratio.toFixed(2)}×${row === base ? '' : ok ? ' ✅' : ' ❌'})`;
  };
  const lines = [
    GROWTH_HEADING,
    '',
    'Requests per second of server CPU with N users and N sessions in the SQLite database (cloned in bulk from a real ' +
      `account), and each as a ratio to the ${fmt(base.size)}-user database (target: within ±${TOLERANCE * 100} %).`,
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
