/**
 * What PostgreSQL costs before a request does any work of its own, on this machine: the CPU of one round trip for a
 * one-row read by primary key and for a committed one-row UPDATE, each a named prepared statement sent through a pg
 * pool of the server's default size (10) by 50 callers at once — the bench's refresh load, minus the refresh. Counted
 * as the auth section counts a refresh: the client's CPU (this process, whose only work meanwhile is this) and the CPU
 * of the pool's PostgreSQL backends. A refresh needs at least one of each (it reads its token and state, then writes
 * the rotation durably), so their sum is a floor under every refresh on PostgreSQL, whatever the server does.
 */
import { cpuSeconds } from '../lib/proc.js';

const CALLERS = 50;
const POOL = 10;
const ROWS = 1000;

/** The backends serving `pool` (every connection opened first, so none is missed), by pid. */
async function backendPids(pool) {
  const clients = await Promise.all(Array.from({ length: POOL }, () => pool.connect()));
  try {
    return await Promise.all(
      clients.map(async (client) => (await client.query('select pg_backend_pid() as pid')).rows[0].pid),
    );
  } finally {
    for (const client of clients) client.release();
  }
}

/** `seconds` of `statement` from 50 callers; client and PostgreSQL CPU µs per statement. */
async function measure(pool, pids, statement, seconds) {
  const pgBefore = pids.map((pid) => cpuSeconds(pid));
  const before = process.cpuUsage();
  const until = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      for (let i = caller; Date.now() < until; i += CALLERS) {
        await pool.query({ ...statement, values: [(i % ROWS) + 1] });
        done++;
      }
    }),
  );
  const used = process.cpuUsage(before);
  const pgUsed = pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - pgBefore[i], 0);
  return { clientUs: (used.user + used.system) / done, pgUs: (pgUsed / done) * 1e6, done };
}

/**
 * Measures the floor on the database at `url` (a throwaway one: it creates a table there). Returns `{ read, write }`,
 * each `{ clientUs, pgUs, done }`.
 */
export async function pgFloor(url, seconds) {
  const { default: pgLib } = await import('pg');
  const pool = new pgLib.Pool({ connectionString: url, max: POOL, idleTimeoutMillis: 0 });
  pool.on('error', () => {}); // a backend ending between statements: the next query reports it
  try {
    await pool.query('create table bench_floor (id integer primary key, n bigint not null)');
    await pool.query('insert into bench_floor select g, 0 from generate_series(1, $1::integer) g', [ROWS]);
    const pids = await backendPids(pool);
    const read = { name: 'bench_floor_read', text: 'select n from bench_floor where id = $1' };
    const write = {
      name: 'bench_floor_write',
      text: 'update bench_floor set n = n + 1 where id = $1 returning n',
    };
    // Warm: every connection prepares both statements before anything is counted.
    await measure(pool, pids, read, 0.3);
    await measure(pool, pids, write, 0.3);
    return {
      read: await measure(pool, pids, read, seconds),
      write: await measure(pool, pids, write, seconds),
    };
  } finally {
    await pool.end();
  }
}
