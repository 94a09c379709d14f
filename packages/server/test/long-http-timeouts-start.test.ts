/**
 * Every pair of HTTP timeouts the configuration accepts (`JOT_HEADERS_TIMEOUT` at most `JOT_REQUEST_TIMEOUT`, each
 * up to the timer limit) starts a server with exactly those values. Node's `http.createServer` checks
 * `headersTimeout <= requestTimeout` against the request timeout it was given — 300 s when none is — so a headers
 * timeout above 300 s used to stop the server with Node's raw "headersTimeout … must be <= requestTimeout" even with
 * a longer request timeout, a configuration `loadConfig` (and `jot config check`) accepted.
 */
import { describe, expect, it } from 'vitest';

import { loadConfig } from '@jot/server';

import { startServer } from './support/jot-server.js';

describe('HTTP timeouts the configuration accepts start the server', () => {
  it.each([
    ['a headers timeout above 300 s under a longer request timeout', '3600s', '7200s'],
    ['both above 300 s and equal', '301s', '301s'],
    ['both at the timer limit', '24d', '24d'],
    ['short ones', '1s', '2s'],
  ])('%s (%s / %s)', async (_case, headersTimeout, requestTimeout) => {
    const accepted = loadConfig({
      env: {},
      file: false,
      overrides: { nodeEnv: 'test', headersTimeout, requestTimeout },
    });
    const server = await startServer({ headersTimeout, requestTimeout });
    try {
      expect(server.app.server.headersTimeout).toBe(accepted.headersTimeoutMs);
      expect(server.app.server.requestTimeout).toBe(accepted.requestTimeoutMs);
      const health = await server.request('GET', '/health');
      expect(health.status, health.text).toBe(200);
    } finally {
      await server.close();
    }
  });
});
