/**
 * Property-based fuzzing of every route (issue 8): hostile path ids, query values and bodies — control characters
 * including U+0000, numbers like 1e308, wrong types, garbage bodies — with no credentials, an admin's token, the
 * feed secret or a garbage token, on SQLite and on PostgreSQL. Every answer must be a 4xx (or a success), never a
 * 5xx, and must arrive within a deadline. Routes come from the server's own route table, so a new route is fuzzed
 * the moment it exists. Each route gets a bounded number of runs so the whole file stays a few seconds per database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openStore, type RouteEntry } from '@jot/server';

import { requirePostgres } from './support/postgres.js';
import { startServer, type TestServer } from './support/jot-server.js';

const FEED_SECRET = 'f'.repeat(40);
const PASSWORD = 'correct horse battery';
const RUNS_PER_ROUTE = Number(process.env.JOT_FUZZ_RUNS ?? 10);
const DEADLINE_MS = 10_000;

const pg = await requirePostgres('input-fuzz');

/** The strings that broke us before, and their neighbours. */
const NASTY = [
  '\u0000',
  'a\u0000b',
  'x\u0000@example.com',
  '%00',
  '\u001f',
  '\u007f',
  '\u0085',
  '\r\n',
  '\ud800',
  '',
  ' ',
  '1e308',
  '-1e308',
  '9007199254740993',
  '-1',
  '0',
  'NaN',
  'Infinity',
  'null',
  '[]',
  '{}',
  'x'.repeat(300),
  '../../etc/passwd',
  'a@b.c',
];

// Weighted towards the known-bad shapes: a run that only sends well-formed junk proves little.
const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom('', 'x', 'name', 'u@example.com'),
        fc.constantFrom('\u0000', '\u0001', '\u001b', '\u007f', '\u009f'),
        fc.constantFrom('', 'y', '@example.com'),
      )
      .map(([a, c, b]) => a + c + b),
  },
);
const hostileNumber = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 1e21, 0.5, -1, 0),
  },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true }) },
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const queryValue = fc.oneof(hostileString, hostileNumber.map(String));

/**
 * An object with each of `names` present three times in four, each with a value from `value`, and now and then
 * a field the route does not declare.
 */
function mostlyPresent(names: string[], value: fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  const extra = fc.oneof(
    { weight: 5, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: value.map((v) => ['extra', v] as const) },
  );
  return fc
    .tuple(
      extra,
      ...names.map((name) =>
        fc.option(
          value.map((v) => [name, v] as const),
          { freq: 4, nil: undefined },
        ),
      ),
    )
    .map((pairs) => Object.fromEntries(pairs.filter((pair) => pair !== undefined)));
}

/** Percent-encodes every UTF-8 byte (a lone surrogate becomes U+FFFD, as it would on the wire). */
function percentEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

/** Path segments sent as they are: malformed escapes and invalid UTF-8. */
const RAW_SEGMENTS = ['%', '%zz', '%ff', '%c0%80', '%ed%a0%80', '%00', '..', '.'];

function propertiesOf(schema: unknown): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  // A body schema per media type (Fastify's `content` map, `/api/introspect`): the JSON one's fields.
  const perType = (schema as { content?: Record<string, { schema?: unknown }> }).content;
  if (perType !== undefined) return propertiesOf(perType['application/json']?.schema);
  const properties = (schema as { properties?: Record<string, unknown> }).properties;
  return properties === undefined ? [] : Object.keys(properties);
}

interface FuzzRequest {
  path: string;
  query: [string, string][];
  body: { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string; type: string };
  auth: 'none' | 'admin' | 'feed' | 'garbage';
  cookie: string | undefined;
}

/** Requests for one route, aimed at its declared parameters (and a few it does not declare). */
function requestsFor(route: RouteEntry, ids: () => string[]): fc.Arbitrary<FuzzRequest> {
  const segments = route.url.split('/');
  const idValue = fc.oneof(hostileString.map(percentEncode), fc.constantFrom(...ids(), ...RAW_SEGMENTS));
  const pathArb = fc
    .tuple(...segments.map((s) => (s.startsWith(':') || s === '*' ? idValue : fc.constant(s))))
    .map((parts) => parts.join('/'));
  const queryNames = propertiesOf(route.schema?.querystring);
  const bodyNames = [...propertiesOf(route.schema?.body), 'extra'];
  const jsonBody = mostlyPresent(propertiesOf(route.schema?.body), hostileValue).map((value) => ({
    kind: 'json' as const,
    value,
  }));
  const otherBody = fc.oneof(
    hostileValue.map((value) => ({ kind: 'json' as const, value })),
    fc
      .tuple(
        hostileString,
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'),
      )
      .map(([text, type]) => ({ kind: 'raw' as const, text, type })),
    fc.tuple(fc.constantFrom(...bodyNames), hostileString).map(([name, value]) => ({
      kind: 'raw' as const,
      text: new URLSearchParams({ [name]: value }).toString(),
      type: 'application/x-www-form-urlencoded',
    })),
  );
  const bodyArb =
    route.method === 'GET'
      ? fc.constant({ kind: 'none' as const })
      : fc.oneof({ weight: 3, arbitrary: jsonBody }, { weight: 1, arbitrary: otherBody });
  return fc.record({
    path: pathArb,
    query: mostlyPresent(queryNames, queryValue).map((q) => Object.entries(q) as [string, string][]),
    body: bodyArb,
    auth: fc.constantFrom('none', 'admin', 'admin', 'admin', 'feed', 'garbage'),
    cookie: fc.option(
      hostileString.map((v) => `jot_rt=${percentEncode(v)}; jot_at=${percentEncode(v)}`),
      { nil: undefined },
    ),
  });
}

/**
 * Logs the admin in — again after a fuzzed logout ended the session, or as a new admin account after a fuzzed
 * `DELETE /api/account` removed it — so later runs keep reaching past authentication.
 */
async function adminLogin(server: TestServer): Promise<{ token: string; sid: string; sub: string }> {
  const credentials = { email: 'admin@example.com', password: PASSWORD };
  let login = await server.request('POST', '/api/login', { body: credentials });
  if (login.status === 401) {
    const again = await server.request('POST', '/api/register', { body: credentials });
    if (again.status === 201) await server.app.jot.store.setRoles(again.body.id, ['admin']);
    login = await server.request('POST', '/api/login', { body: credentials });
  }
  if (login.status !== 200) throw new Error(`admin login failed: ${login.status} ${login.text}`);
  const token: string = login.body.access_token;
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
    sid: string;
    sub: string;
  };
  return { token, sid: claims.sid, sub: claims.sub };
}

function fuzzSuite(name: string, start: () => Promise<{ server: TestServer; cleanup: () => Promise<void> }>) {
  describe(`every route answers hostile input with a 4xx on ${name}`, () => {
    let server: TestServer;
    let cleanup: () => Promise<void>;
    let admin: { token: string; sid: string; sub: string };

    beforeAll(async () => {
      ({ server, cleanup } = await start());
      const reg = await server.request('POST', '/api/register', {
        body: { email: 'admin@example.com', password: PASSWORD },
      });
      expect(reg.status).toBe(201);
      admin = await adminLogin(server);
    });
    afterAll(async () => {
      await cleanup?.();
    });

    async function send(method: string, request: FuzzRequest): Promise<{ status: number; text: string }> {
      const headers: Record<string, string> = {};
      if (request.auth === 'admin') headers.authorization = `Bearer ${admin.token}`;
      if (request.auth === 'feed') headers.authorization = `Bearer ${FEED_SECRET}`;
      if (request.auth === 'garbage') headers.authorization = 'Bearer a.b.c';
      if (request.cookie !== undefined) headers.cookie = request.cookie;
      let body: string | undefined;
      if (request.body.kind === 'json') {
        body = JSON.stringify(request.body.value) ?? 'null';
        headers['content-type'] = 'application/json';
      } else if (request.body.kind === 'raw') {
        body = request.body.text;
        headers['content-type'] = request.body.type;
      }
      const query = new URLSearchParams(request.query).toString();
      const url = `${server.url}${request.path}${query === '' ? '' : `?${query}`}`;
      return fetchWithDeadline(url, { method, headers, body });
    }

    it('the cases issue 8 found are 400s', async () => {
      const cases: [string, string, unknown?][] = [
        ['DELETE', '/api/sessions/%00'],
        ['POST', '/api/login', { email: 'a\u0000@example.com', password: PASSWORD }],
        ['POST', '/api/register', { email: 'b@example.com', password: PASSWORD, name: 'x\u0000y' }],
        ['POST', '/api/register', { email: 'c\u0000@example.com', password: PASSWORD }],
        ['GET', '/api/admin/users?offset=1e308'],
        ['GET', '/api/admin/events?before=1e308'],
        ['GET', '/api/admin/users?offset=9007199254740993'],
        ['GET', '/api/admin/users?limit=Infinity'],
        ['GET', '/api/admin/events?limit=-Infinity'],
        ['POST', '/api/admin/users/%00/disable'],
      ];
      for (const [method, path, body] of cases) {
        const res = await server.request(method, path, { token: admin.token, body });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 400 });
        expect(res.body).toMatchObject({ code: 'ERR_VALIDATION' });
      }
    });

    it('fuzzes every route in the route table without a 5xx or a hang', async () => {
      const routes = server.app.routeTable;
      // The table is the server's own: if it lost routes, the fuzzing below would prove nothing.
      expect(routes.length).toBeGreaterThan(25);
      expect(routes.map((r) => `${r.method} ${r.url}`)).toContain('DELETE /api/sessions/:id');
      for (const route of routes) {
        await fc.assert(
          fc.asyncProperty(
            requestsFor(route, () => [admin.sid, admin.sub]),
            async (request) => {
              const res = await send(route.method, request);
              if (request.auth === 'admin' && res.status === 401) admin = await adminLogin(server);
              if (res.status >= 500)
                throw new Error(`${route.method} ${route.url} → ${res.status} ${res.text}`);
            },
          ),
          { numRuns: RUNS_PER_ROUTE },
        );
      }
      // Bounded by the number of runs, not by time: ~100 routes × RUNS_PER_ROUTE requests take 10–20 s on a loaded
      // 2-core machine; each request still has its own DEADLINE_MS.
    }, 180_000);
  });
}

/** A fetch that must answer within the deadline; an event stream counts as answered once its headers arrive. */
async function fetchWithDeadline(url: string, init: RequestInit): Promise<{ status: number; text: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), DEADLINE_MS);
  try {
    const res = await fetch(url, { ...init, signal: controller.signal, redirect: 'manual' });
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await res.body?.cancel();
      return { status: res.status, text: '' };
    }
    return { status: res.status, text: await res.text() };
  } catch (err) {
    if (controller.signal.aborted)
      throw new Error(`${init.method} ${url} did not answer within ${DEADLINE_MS} ms`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

fuzzSuite('SQLite', async () => {
  const server = await startServer({ revocationSecret: FEED_SECRET });
  return { server, cleanup: () => server.close() };
});

describe.skipIf(pg === undefined)('PostgreSQL', () => {
  fuzzSuite('PostgreSQL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jot-fuzz-pg-'));
    const store = await openStore({ url: pg!.url, dataDir, postgres: { schema: pg!.schema } });
    const server = await startServer({ revocationSecret: FEED_SECRET }, { dataDir, store });
    return {
      server,
      cleanup: async () => {
        await server.close({ keepData: true });
        await store.close();
        await pg!.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  });
});
