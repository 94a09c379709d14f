/**
 * Test helper: a throwaway Postgres schema per run, so parallel runs never see each other's tables.
 * Connects to 127.0.0.1:5432 database `test` (trust auth) as `postgres`, falling back to `root`;
 * `JOT_TEST_DATABASE_URL` overrides. A suite asks through {@link requirePostgres}: in CI a missing PostgreSQL fails
 * it, elsewhere it is skipped with a visible message (as `requireRedis` in `redis.ts` does for Redis).
 */
import { randomBytes } from 'node:crypto';

/** A reachable server plus a fresh schema in it. */
export interface TestSchema {
  url: string;
  schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

const CANDIDATES = process.env.JOT_TEST_DATABASE_URL
  ? [process.env.JOT_TEST_DATABASE_URL]
  : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];

async function run(url: string, text: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Creates `jot_test_<random>`. Resolves to `{ error }` when no candidate server answers, and to
 * `{ error, broken: true }` when the pg driver itself cannot load (a test-runner problem, never a skip).
 */
export async function createTestSchema(): Promise<TestSchema | { error: string; broken?: true }> {
  try {
    await import('pg');
  } catch (err) {
    return {
      error: `the pg driver failed to load: ${err instanceof Error ? err.message : String(err)}`,
      broken: true,
    };
  }
  const errors: string[] = [];
  for (const url of CANDIDATES) {
    const schema = `jot_test_${randomBytes(6).toString('hex')}`;
    try {
      await run(url, `CREATE SCHEMA ${schema}`);
      return { url, schema, drop: () => run(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
    } catch (err) {
      errors.push(`${url.replace(/\/\/[^@]*@/, '//')}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { error: errors.join('; ') };
}

/**
 * Another fresh schema on the server `beside` was created on (`<beside.schema>_<random>`), for a test that needs
 * one of its own within a suite that already found a PostgreSQL through {@link requirePostgres}. Throws when the
 * server no longer answers.
 */
export async function schemaBeside(beside: TestSchema): Promise<TestSchema> {
  const schema = `${beside.schema}_${randomBytes(4).toString('hex')}`;
  await run(beside.url, `CREATE SCHEMA ${schema}`);
  return { url: beside.url, schema, drop: () => run(beside.url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}

/**
 * A fresh schema for the suite named `suite`, or undefined — with a visible warning — when no PostgreSQL answers
 * outside CI. Throws when one is missing in CI (`CI` set) or when the pg driver cannot load (never a skip): a suite
 * must not pass by quietly dropping its PostgreSQL half.
 */
export async function requirePostgres(suite: string): Promise<TestSchema | undefined> {
  const target = await createTestSchema();
  if (!('error' in target)) return target;
  if (process.env.CI || target.broken)
    throw new Error(`PostgreSQL is required for ${suite}: ${target.error}`);
  console.warn(`SKIPPED ${suite} on PostgreSQL: not reachable (${target.error})`);
  return undefined;
}
