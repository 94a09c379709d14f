/** Markdown for the auth-server section, each target judged against a figure from the same run. */

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

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const judge = (ok, text) => (ok ? `${text} ✅` : `**${text}** ❌`);

export function renderAuth({ rows, argon2PerCpu }, profile) {
  const parts = [
    AUTH_HEADING,
    '',
    `The built \`jot-server\` (RS256, default argon2id cost) in its own process, loaded by autocannon from the bench ` +
      `process; ${profile.rounds} round(s) of ${profile.seconds} s per endpoint, median. "per CPU-s" divides answered ` +
      'requests by the server process\'s CPU time (from `/proc`); "+ DB" adds the CPU of its PostgreSQL backends. ' +
      `Refresh: ${profile.connections} connections, each following its own rotation chain; login: ` +
      `${profile.loginConnections} connections; \`/healthz\` probed by one more connection during the login storm.`,
    '',
    'Where the CPU of refresh, whoami and login goes, before and after the work on them: [profiles.md](profiles.md) ' +
      '(from `node bench/profile.js <endpoint>`; this generator leaves that file alone).',
    '',
    '| database | endpoint | req/s | per CPU-s | per CPU-s + DB | failed |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    for (const name of ['refresh', 'whoami', 'login', 'client credentials']) {
      const s = row[name];
      const withDb = row.dialect === 'postgres' ? fmt(s.perCpuWithDb) : '—';
      parts.push(`| ${row.dialect} | ${name} | ${fmt(s.rps)} | ${fmt(s.perCpu)} | ${withDb} | ${s.bad} |`);
    }
  }
  const sqlite = rows.find((r) => r.dialect === 'sqlite');
  const postgres = rows.find((r) => r.dialect === 'postgres');
  const missed = [];
  const target = (ok, text) => {
    if (!ok) missed.push(text);
    return `- ${judge(ok, text)}`;
  };
  parts.push(
    '',
    `Raw argon2id verify (the \`@node-rs/argon2\` binding the server uses, same parameters): ${fmt(argon2PerCpu)} per CPU-s.`,
    '',
  );
  if (sqlite) {
    const T = AUTH_TARGETS;
    parts.push(
      target(
        sqlite.refresh.perCpu >= T.refreshSqlite,
        `refresh on SQLite ${fmt(sqlite.refresh.perCpu)}/CPU-s (target ≥ ${fmt(T.refreshSqlite)})`,
      ),
      target(
        sqlite['client credentials'].perCpu >= T.clientCredentials,
        `client credentials ${fmt(sqlite['client credentials'].perCpu)}/CPU-s (target ≥ ${fmt(T.clientCredentials)})`,
      ),
      target(
        sqlite.whoami.perCpu >= T.whoami,
        `whoami ${fmt(sqlite.whoami.perCpu)}/CPU-s (target ≥ ${fmt(T.whoami)})`,
      ),
      target(
        sqlite.login.perCpu >= T.loginVsArgon2 * argon2PerCpu,
        `login ${(sqlite.login.perCpu / argon2PerCpu).toFixed(2)}× the raw argon2id rate (target ≥ ${T.loginVsArgon2}×)`,
      ),
      target(
        sqlite.healthP99 <= T.healthP99Ms,
        `/healthz p99 during a login storm ${sqlite.healthP99} ms (target ≤ ${T.healthP99Ms} ms)`,
      ),
    );
  }
  if (postgres) {
    parts.push(
      target(
        postgres.refresh.perCpuWithDb >= AUTH_TARGETS.refreshPostgresWithDb,
        `refresh on PostgreSQL ${fmt(postgres.refresh.perCpuWithDb)}/CPU-s counting PostgreSQL's CPU (target ≥ ${fmt(AUTH_TARGETS.refreshPostgresWithDb)})`,
      ),
    );
  }
  parts.push('');
  return { markdown: parts.join('\n'), missed };
}
