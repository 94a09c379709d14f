/** Test helper: a Redis namespace of a test deployment's own (no ioredis import: `startServer` uses it). */

/**
 * The Redis namespace of a test deployment named by something unique to it (its data directory's name, its
 * PostgreSQL schema): test servers never share rate-limit counters or a revocation mirror, not with a test file run
 * before them in the same worker's database, nor with an earlier run of the suite.
 */
export function testRedisNamespace(unique: string): string {
  return `jot-test:${unique.replace(/[^A-Za-z0-9_.-]/g, '_')}`.slice(0, 64);
}
