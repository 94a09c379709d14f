/**
 * The set-up the client's timer suites share: fake timers and a fresh fake server (60 s tokens) for each test, and
 * the test's client closed after it. Call it where the hooks belong (a file's top level or a describe block) and
 * read `server` and `client` inside the tests.
 */
import { afterEach, beforeEach, vi } from 'vitest';

import { fakeServer, type FakeServer } from '../../../../test-support/session-api.js';
import { createClient, type ClientOptions, type JotClient } from '../../src/index.js';

/** The base URL the clients of the fake server are given. */
export const BASE = 'http://jot.test';

export interface FakeSession {
  /** This test's fake server. */
  readonly server: FakeServer;
  /** This test's client (made with `bearer`), closed after the test. */
  readonly client: JotClient;
  /**
   * Makes this test's `client`: bearer mode at {@link BASE}, no cross-tab locks, talking to the fake server unless
   * `options.fetch` says otherwise.
   */
  bearer(options?: Pick<ClientOptions, 'fetch' | 'refreshMargin' | 'tokenMode'>): JotClient;
}

/** Registers the hooks; `singleToken` runs the fake server in `JOT_TOKEN_MODE=single`. */
export function fakeSessionPerTest(options: { singleToken?: boolean } = {}): FakeSession {
  let server: FakeServer | undefined;
  let client: JotClient | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
    server = fakeServer(60);
    if (options.singleToken === true) server.singleToken = true;
  });
  afterEach(() => {
    client?.close();
    client = undefined;
    vi.useRealTimers();
  });
  const session: FakeSession = {
    get server(): FakeServer {
      if (server === undefined) throw new Error('the fake server is made before each test');
      return server;
    },
    get client(): JotClient {
      if (client === undefined) throw new Error('this test has made no client yet');
      return client;
    },
    bearer({ fetch = session.server.fetch, ...more } = {}): JotClient {
      client = createClient({ baseUrl: BASE, mode: 'bearer', fetch, locks: null, ...more });
      return client;
    },
  };
  return session;
}
