/**
 * Starts a real Jot server on a random loopback port with a temporary data directory, for end-to-end tests over
 * HTTP, and gives a tiny JSON client for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import type { FastifyInstance } from 'fastify';

import { createServer, loadConfig, type Config, type Store } from '@jot/server';
import type { Settings } from '../../src/config/index.js';
import { testRedisNamespace } from './redis-namespace.js';

/** A running server. */
export interface TestServer {
  app: FastifyInstance;
  config: Config;
  url: string;
  dataDir: string;
  /** Sends a request; JSON bodies are serialised; the response body is parsed when it is JSON. */
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  /** Closes the server; `keepData` leaves the data directory for a restart. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Raw body text (with `contentType`), for malformed-input tests. */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** Test defaults: cheap argon2, silent logs, fixed issuer, no file config. */
export const TEST_SETTINGS: Settings = {
  nodeEnv: 'test',
  port: 0,
  issuer: 'http://jot.test',
  logLevel: 'silent',
  argon2MemoryKib: 1024,
  argon2TimeCost: 1,
  rateLimitAuth: '1000/min',
  signingAlg: 'ES256',
};

/** Starts a server. `dataDir` reuses a directory (restart tests). */
export async function startServer(
  settings: Settings = {},
  options: {
    dataDir?: string;
    clock?: () => number;
    store?: Store;
    logger?: Parameters<typeof createServer>[0]['logger'];
    /** Registers test-only routes on the app before it listens (e.g. behind the real auth pre-handlers). */
    routes?: (app: FastifyInstance) => void | Promise<void>;
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'jot-e2e-'));
  // With Redis, a namespace of the data directory's own (the same again on a restart with the same directory).
  const namespace =
    settings.redisUrl === undefined ? {} : { redisNamespace: testRedisNamespace(basename(dataDir)) };
  const config = loadConfig({
    env: {},
    file: false,
    overrides: { ...TEST_SETTINGS, dataDir, ...namespace, ...settings },
  });
  const app = await createServer({
    config,
    clock: options.clock,
    logger: options.logger ?? false,
    store: options.store,
  });
  await options.routes?.(app);
  await app.listen({ port: config.port, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    config,
    url,
    dataDir,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.raw !== undefined) {
        body = opts.raw;
        headers['content-type'] = opts.contentType ?? 'application/json';
      } else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(url + path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0)
        parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async close(closeOptions = {}) {
      await app.close();
      if (!closeOptions.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The password {@link signUp} registers with unless told otherwise. */
export const SIGN_UP_PASSWORD = 'correct horse battery';

/** Registers and signs in a user; returns the token response. */
export async function signUp(
  server: TestServer,
  email: string,
  password = SIGN_UP_PASSWORD,
): Promise<{
  access_token: string;
  refresh_token: string;
  expires_in: number;
  userId: string;
}> {
  const reg = await server.request('POST', '/api/register', { body: { email, password } });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
  const login = await server.request('POST', '/api/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return { ...login.body, userId: reg.body.id };
}

/**
 * Marks the account's current address verified, as following its verification link does. Adding a second factor
 * needs a verified address (pre-account hijacking, services/enrolment-gate.ts): tests that enrol one call this (or
 * {@link signUpVerified}) first. `who` is the user's id or `{ email }`.
 */
export async function verifyAddressOf(
  server: Pick<TestServer, 'app'>,
  who: string | { email: string },
): Promise<void> {
  const { store } = server.app.jot;
  const user = typeof who === 'string' ? await store.getUserById(who) : await store.getUserByEmail(who.email);
  if (user === undefined) throw new Error(`verifyAddressOf: no user ${JSON.stringify(who)}`);
  if (user.emailVerifiedAt !== null) return;
  if ((await store.markEmailVerified(user.id, user.email)) === undefined) {
    throw new Error(`verifyAddressOf: the address of ${user.id} changed meanwhile`);
  }
}

/**
 * `POST /api/email/verify` with a verification link's token, as the one who registered the account: with its
 * password (`password`, {@link SIGN_UP_PASSWORD} unless told otherwise), which the first verification of a
 * never-verified address takes (services/registrant-proof.ts).
 */
export function followVerificationLink(
  server: Pick<TestServer, 'request'>,
  token: string,
  password: string = SIGN_UP_PASSWORD,
): Promise<TestResponse> {
  return server.request('POST', '/api/email/verify', { body: { token, password } });
}

/**
 * `POST /api/email/change/confirm` with an email-change link's token, as the one who asked for the change: with the
 * account's password (`password`, {@link SIGN_UP_PASSWORD} unless told otherwise), which the confirmation takes
 * unless the request carries a session of the account (services/registrant-proof.ts).
 */
export function followEmailChangeLink(
  server: Pick<TestServer, 'request'>,
  token: string,
  password: string = SIGN_UP_PASSWORD,
): Promise<TestResponse> {
  return server.request('POST', '/api/email/change/confirm', { body: { token, password } });
}

/** {@link signUp}, then {@link verifyAddressOf}: an account that may add a second factor. */
export async function signUpVerified(
  server: TestServer,
  email: string,
  password?: string,
): Promise<Awaited<ReturnType<typeof signUp>>> {
  const session = await signUp(server, email, password);
  await verifyAddressOf(server, session.userId);
  return session;
}
