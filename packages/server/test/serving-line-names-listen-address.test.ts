/**
 * Regression (operator walkthrough 2026-12-02): each instance logged only "Jot is serving <issuer URL>" — behind a
 * load balancer every instance says the same, and not the address and port it actually listens on. The line now
 * names it (the port the OS gave for JOT_PORT=0 here). The built `jot-server`, as a process.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import {
  cleanup,
  requireBuiltServer,
  serverEnv,
  spawnServer,
  START_DEADLINE_MS,
  waitFor,
} from './support/processes.js';

beforeAll(() => requireBuiltServer());
afterAll(cleanup);

it(
  'logs the address it listens on in the "Jot is serving" line',
  async () => {
    const server = await spawnServer(serverEnv({}));
    const line = await waitFor('the serving line', () =>
      server.logs.find((l) => String(l.msg).startsWith('Jot is serving')),
    );
    expect(line.msg).toContain(`Jot is serving http://jot.cluster.test on ${server.url}`);
    expect(line.listening).toBe(server.url);
  },
  START_DEADLINE_MS + 20_000,
);
