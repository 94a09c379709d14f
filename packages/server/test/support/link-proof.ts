/**
 * What the two link-confirmation proof suites share (first-verification-proves-the-registrant and
 * email-change-confirmation-proves-the-requester): a server with mail and a sign-in lock of `BUDGET` free failures,
 * on one backend, and the reads that tell whether a password was looked at.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'vitest';

import { accountKey } from '../../src/services/login-throttle.js';
import type { SecurityEvent } from '../../src/store/index.js';
import { signUp, startServer, type TestResponse, type TestServer } from './jot-server.js';
import { BUDGET, newEmail } from './password-checks.js';
import { startSmtp, type TestSmtp } from './smtp.js';
import type { ServerBackend } from './store-backends.js';

/** A running proof server, its mailbox and the first account's (an admin's) access token. */
export interface LinkProofServer {
  server: TestServer;
  smtp: TestSmtp;
  admin: string;
  close(): Promise<void>;
}

/** Starts the server on `backend` (its data in a fresh directory named by `prefix`), with `clock` if given. */
export async function startLinkProofServer(
  backend: ServerBackend,
  prefix: string,
  clock?: () => number,
): Promise<LinkProofServer> {
  const smtp = await startSmtp();
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const server = await startServer(
    {
      smtpUrl: smtp.url,
      publicUrl: 'http://ui.test',
      mailRetryBase: '1s',
      rateLimitMail: '100/15m',
      // Two free failures: the second locks sign-in for 30 s (support/password-checks.ts).
      loginLockout: `${BUDGET}/30s`,
    },
    { dataDir, store: await backend.open(dataDir), ...(clock && { clock }) },
  );
  const admin = (await signUp(server, newEmail('first-admin'))).access_token;
  return {
    server,
    smtp,
    admin,
    async close() {
      await server.close();
      await smtp.stop();
      await backend.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads of `server()`'s store and answers the proof suites compare. */
export function proofProbes(server: () => TestServer) {
  /** The user's events of `type`, oldest first. */
  const eventsOf = async (userId: string, type: string): Promise<SecurityEvent[]> =>
    (await server().app.jot.store.listSecurityEvents({ limit: 100, userId, type })).reverse();
  const throttleRow = (email: string) => server().app.jot.store.getLoginThrottle(accountKey(email));
  const answer = (r: TestResponse) => ({ status: r.status, code: r.body.code });
  /** No password of `email`'s account was looked at: nothing counted on its sign-in lock, no failed sign-in. */
  async function noPasswordChecked(email: string, userId: string): Promise<void> {
    expect(await throttleRow(email)).toBeUndefined();
    expect(await eventsOf(userId, 'login_failed')).toEqual([]);
  }
  return { eventsOf, throttleRow, answer, noPasswordChecked };
}
