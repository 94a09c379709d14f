import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources through the "@jot/source" export condition,
// so tests never run against a stale build.
const conditions = ['@jot/source', 'node', 'import', 'module', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
