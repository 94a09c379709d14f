import { availableParallelism } from 'node:os';

import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the "@jot/source" export condition,
// so tests never run against a stale build. 'import' stays out of the SSR conditions: Vitest hands them to
// Node as --conditions, and pg's CommonJS code would then load pg-pool's ESM build and fail.
const conditions = ['@jot/source', 'node', 'module', 'default'];

export default defineConfig({
  resolve: { conditions: ['@jot/source', 'import', 'module', 'browser', 'default'] },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'],
    environment: 'node',
    // A deadline for hangs, not a speed check: multi-instance tests on a 2-core machine running two files at once
    // take 15–20 s under load (token-renewal's three PostgreSQL instances did).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits for a condition: 10 s instead of Vitest's 1 s, for a loaded 2-core machine. A poll that is
    // met returns as soon as it is; only a failing one waits the whole deadline.
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    // Most of the suite's time is spent waiting on child processes, sockets, PostgreSQL and Chromium, so files run
    // at least two at a time even on a 2-core machine (Vitest's default there is one). Each file has its own
    // PostgreSQL database or schema and each worker its own Redis database (test/support/redis.ts): at most 15
    // workers, so that worker ids 1–15 map to Redis databases 1–15 of the default 16 and none shares one.
    maxWorkers: Math.min(15, Math.max(2, availableParallelism() - 1)),
  },
});
