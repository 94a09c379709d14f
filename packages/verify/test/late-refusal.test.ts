/**
 * A refusal that arrives after something else answered the request — a timeout middleware (connect-timeout) that
 * sent its 503 while a slow verification (a JWKS or introspection call) was still running. Express's `res.set` and
 * `node:http`'s `writeHead` then throw `ERR_HTTP_HEADERS_SENT`; that throw used to escape as an unhandled rejection,
 * which ends a Node process. The adapters now leave an answered response alone.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import express from 'express';
import Fastify from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';

import { expressAuth, fastifyAuth, nodeAuth, type AuthResult, type Verifier } from '../src/index.js';

/** A verifier whose refusal (503, as a slow revocation check gives) arrives after `delayMs`. */
function slowVerifier(delayMs: number): Verifier {
  const refusal: AuthResult = {
    ok: false,
    error: undefined as never,
    response: {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="jot", error="invalid_token"' },
      body: { error: 'invalid_token', error_description: 'late', code: 'ERR_JWT_EXPIRED' },
    },
  };
  return {
    realm: 'jot',
    verify: () => Promise.reject(new Error('unused')),
    authenticate: () => new Promise((resolve) => setTimeout(() => resolve(refusal), delayMs)),
    ready: () => Promise.resolve(),
    stats: () => ({}) as never,
    close: () => Promise.resolve(),
  };
}

const unhandled: unknown[] = [];
const record = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', record);
});
afterEach(() => {
  process.off('unhandledRejection', record);
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Calls `url`, then waits until the late refusal has come and gone. */
async function callThenSettle(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/me`, { headers: { authorization: 'Bearer x' } });
  const answer = { status: res.status, text: await res.text() };
  await new Promise((resolve) => setTimeout(resolve, 250));
  return answer;
}

it('express: a refusal after a timeout middleware answered is dropped, not an unhandled rejection', async () => {
  const app = express();
  app.use((_req, res, next) => {
    setTimeout(() => {
      if (!res.headersSent) res.status(503).end('timeout');
    }, 30);
    next();
  });
  app.get('/me', expressAuth(slowVerifier(120)), (_req, res) => {
    res.end('ok');
  });
  const server = createServer(app);
  const url = await listen(server);
  const answer = await callThenSettle(url);
  server.close();
  expect(answer).toEqual({ status: 503, text: 'timeout' });
  expect(unhandled).toEqual([]);
});

it('node:http: a refusal after the handler answered is dropped, not an unhandled rejection', async () => {
  const auth = nodeAuth(slowVerifier(120));
  // The documented shape: the handler awaits nodeAuth and nothing catches (a rejection is unhandled).
  const server = createServer((req, res) => {
    setTimeout(() => res.writeHead(503).end('timeout'), 30);
    void auth(req, res).then((who) => {
      if (who) res.end('ok');
    });
  });
  const url = await listen(server);
  const answer = await callThenSettle(url);
  server.close();
  expect(answer).toEqual({ status: 503, text: 'timeout' });
  expect(unhandled).toEqual([]);
});

it('fastify: a refusal after the reply was sent is dropped, without sending twice', async () => {
  const warnings: unknown[] = [];
  const app = Fastify({
    logger: { level: 'warn', stream: { write: (line: string) => warnings.push(line) } },
  });
  app.addHook('onRequest', async (_request, reply) => {
    setTimeout(() => void reply.code(503).send('timeout'), 30);
  });
  app.get('/me', { preHandler: fastifyAuth(slowVerifier(120)) }, () => 'ok');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const answer = await callThenSettle(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
  await app.close();
  expect(answer).toEqual({ status: 503, text: 'timeout' });
  expect(unhandled).toEqual([]);
  expect(warnings.join('\n')).not.toMatch(/already sent/i);
});
