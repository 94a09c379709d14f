/** Markdown for the auth-server section, each target judged against a figure from the same run. */
import { createTargets } from '../lib/targets.js';

export const AUTH_HEADING = '## Auth server (per second of server CPU)';

/** Issue #15's targets (RS256; per server CPU-second). */
export const AUTH_TARGETS = {
  refreshSqlite: 1200,
  refreshPostgresWithDb: 800,
  whoami: 5000,
  clientCredentials: 1500,
  loginVsArgon2: 0.95,
  healthP99Ms: 10,
};

const ENDPOINTS = ['refresh', 'whoami', 'login', 'client credentials'];
const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const ms = (n) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : 'n/a (no probe answered)');

/** The section's opening: how it was measured. */
function intro(profile) {
  return [
    AUTH_HEADING,
    '',
    `The built \`jot-server\` (RS256, default argon2id cost) in its own process, loaded by autocannon from the bench ` +
      `process; ${profile.rounds} round(s) of ${profile.seconds} s per endpoint, median. "per CPU-s" divides answered ` +
      'requests by the server process\'s CPU time (from `/proc`); "+ DB" adds the CPU of its PostgreSQL backends. ' +
      `Refresh: ${profile.connections} connections, each following its own rotation chain; login: ` +
      `${profile.loginConnections} connections. On SQLite each measured login storm is followed by a second one ` +
      'during which one more connection asks for `/healthz` every 20 ms and times each answer in ms with decimals ' +
      '(from when it was due, so a stall counts for every probe it delays; its p99 is over all rounds), kept apart ' +
      "so that the probe is not counted in the login CPU. Three limits are raised on the bench's server because its " +
      "load is not a client's: `JOT_REFRESH_SESSION_LIMIT` and `JOT_REFRESH_ANOMALY_LIMIT` (a chain here rotates " +
      'its session many times a second, a client about once per access-token lifetime) and `JOT_LOGIN_LOCKOUT` (the ' +
      'storm signs one account in from every connection at once, more attempts at one moment than the free failures); ' +
      'their counting still runs on every request.',
    '',
    'Where the CPU of refresh, whoami and login goes, before and after the work on them: [profiles.md](profiles.md) ' +
      '(from `node bench/profile.js <endpoint>`; this generator leaves that file alone).',
    '',
    '| database | endpoint | req/s | per CPU-s | per CPU-s + DB | failed |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
}

/** One table row per database and endpoint. */
function tableRows(rows) {
  return rows.flatMap((row) =>
    ENDPOINTS.map((name) => {
      const s = row[name];
      const withDb = row.dialect === 'postgres' ? fmt(s.perCpuWithDb) : '—';
      return `| ${row.dialect} | ${name} | ${fmt(s.rps)} | ${fmt(s.perCpu)} | ${withDb} | ${s.bad} |`;
    }),
  );
}

/**
 * The figures every auth note may read (bench/target-notes.js): the raw argon2id rate and its CPU per verification,
 * one RS256 signature's CPU, the load after the SQLite rounds, and per database and endpoint the CPU per request
 * (µs: in all, with the database, on the event loop, on other threads) and req/s; on PostgreSQL, the floor of a
 * read and of a committed write (`postgresFloor`, pg-floor.js).
 */
function factsOf({ rows, argon2PerCpu, rsSignCpuUs, cores }) {
  const sqlite = rows.find((r) => r.dialect === 'sqlite');
  const facts = {
    argon2PerCpu,
    argon2CpuUs: 1e6 / argon2PerCpu,
    loginTarget: AUTH_TARGETS.loginVsArgon2,
    rsSignCpuUs,
    cores,
    load: sqlite?.load,
    postgresFloor: rows.find((r) => r.dialect === 'postgres')?.floor,
  };
  for (const row of rows) {
    facts[row.dialect] = Object.fromEntries(
      ENDPOINTS.map((name) => {
        const s = row[name];
        const perRequest = { cpuUs: 1e6 / s.perCpu, cpuWithDbUs: 1e6 / s.perCpuWithDb };
        return [name, { ...perRequest, mainCpuUs: s.mainCpuUs, otherCpuUs: s.otherCpuUs, rps: s.rps }];
      }),
    );
  }
  return facts;
}

/** The SQLite targets, judged by `targets`. */
function sqliteVerdicts(targets, sqlite) {
  const T = AUTH_TARGETS;
  const login = sqlite.loginVsArgon2;
  return [
    targets.check(
      'auth.refresh-sqlite',
      sqlite.refresh.perCpu >= T.refreshSqlite,
      `refresh on SQLite ${fmt(sqlite.refresh.perCpu)}/CPU-s (target ≥ ${fmt(T.refreshSqlite)})`,
    ),
    targets.check(
      'auth.client-credentials',
      sqlite['client credentials'].perCpu >= T.clientCredentials,
      `client credentials ${fmt(sqlite['client credentials'].perCpu)}/CPU-s (target ≥ ${fmt(T.clientCredentials)})`,
    ),
    targets.check(
      'auth.whoami',
      sqlite.whoami.perCpu >= T.whoami,
      `whoami ${fmt(sqlite.whoami.perCpu)}/CPU-s (target ≥ ${fmt(T.whoami)})`,
    ),
    targets.check(
      'auth.login-vs-argon2',
      login >= T.loginVsArgon2,
      `login ${Number.isFinite(login) ? login.toFixed(2) : 'n/a'}× the raw argon2id rate (target ≥ ${T.loginVsArgon2}×)`,
    ),
    targets.check(
      'auth.healthz-p99-login-storm',
      sqlite.health.p99 <= T.healthP99Ms,
      `/healthz p99 during a login storm ${ms(sqlite.health.p99)} (target ≤ ${T.healthP99Ms} ms)`,
      { health: sqlite.health },
    ),
  ];
}

export function renderAuth(section, profile) {
  const { rows, argon2PerCpu, argon2Concurrency } = section;
  const parts = [...intro(profile), ...tableRows(rows)];
  const sqlite = rows.find((r) => r.dialect === 'sqlite');
  const postgres = rows.find((r) => r.dialect === 'postgres');
  const targets = createTargets(factsOf(section));
  parts.push(
    '',
    `Raw argon2id verify (the \`@node-rs/argon2\` binding the server uses, its default parameters, ` +
      `${argon2Concurrency} at a time as the server hashes), measured in the bench process right after each SQLite ` +
      `login storm: ${fmt(argon2PerCpu)} per CPU-s (median); the login ratio is the median of the rounds' ratios.`,
    '',
  );
  if (sqlite) parts.push(...sqliteVerdicts(targets, sqlite));
  if (postgres) {
    parts.push(
      targets.check(
        'auth.refresh-postgres-with-db',
        postgres.refresh.perCpuWithDb >= AUTH_TARGETS.refreshPostgresWithDb,
        `refresh on PostgreSQL ${fmt(postgres.refresh.perCpuWithDb)}/CPU-s counting PostgreSQL's CPU (target ≥ ${fmt(AUTH_TARGETS.refreshPostgresWithDb)})`,
      ),
    );
  }
  parts.push('');
  return { markdown: parts.join('\n'), missed: targets.missed };
}
