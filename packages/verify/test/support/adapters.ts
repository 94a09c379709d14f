/**
 * The same small app mounted four ways (Express, Fastify, Hono, node:http), so one behavioural suite runs
 * against every adapter. Routes: GET /me, POST /orders, GET /admin (role), GET /scoped (scope),
 * GET /sensitive (step-up, maxAuthAge 60 s). `jot-server-routes.ts` mounts the same app on a real Jot server, behind
 * the server's own auth pre-handlers, so the server-parity suite can send every request to both.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';

import {
  authOf,
  expressAuth,
  fastifyAuth,
  honoAuth,
  jotFastify,
  nodeAuth,
  type Guards,
  type JotHonoEnv,
  type Verifier,
} from '../../src/index.js';

export interface Mounted {
  url: string;
  close(): Promise<void>;
}

export type Mount = (verifier: Verifier) => Promise<Mounted>;

const ROUTES: readonly { method: 'GET' | 'POST'; path: string; guards?: Guards }[] = [
  { method: 'GET', path: '/me' },
  { method: 'POST', path: '/orders' },
  { method: 'GET', path: '/admin', guards: { roles: ['admin'] } },
  { method: 'GET', path: '/scoped', guards: { scopes: ['orders:write'] } },
  { method: 'GET', path: '/sensitive', guards: { maxAuthAge: '60s' } },
];

/** What every mount answers for an authenticated request. */
export function body(auth: { claims: { sub: string }; via: string }, path: string): Record<string, unknown> {
  return { sub: auth.claims.sub, via: auth.via, path };
}

export const mountExpress: Mount = async (verifier) => {
  const app = express();
  for (const route of ROUTES) {
    const handler = expressAuth(verifier, route.guards);
    const reply = (req: express.Request, res: express.Response): void => {
      res.json(body(req.auth!, route.path));
    };
    if (route.method === 'GET') app.get(route.path, handler, reply);
    else app.post(route.path, handler, reply);
  }
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};

export const mountFastify: Mount = async (verifier) => {
  const app = Fastify();
  // /me goes through the plugin (scope-wide hook); the guarded routes through per-route preHandlers.
  await app.register(async (scope) => {
    await scope.register(jotFastify, { verifier });
    scope.get('/me', (request) => body(authOf(request), '/me'));
    scope.post('/orders', (request) => body(authOf(request), '/orders'));
  });
  for (const route of ROUTES.filter((r) => r.guards !== undefined)) {
    app.get(route.path, { preHandler: fastifyAuth(verifier, route.guards) }, (request) =>
      body(authOf(request), route.path),
    );
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: () => app.close(),
  };
};

export const mountHono: Mount = async (verifier) => {
  const app = new Hono<JotHonoEnv>();
  for (const route of ROUTES) {
    const handler = honoAuth(verifier, route.guards);
    if (route.method === 'GET') app.get(route.path, handler, (c) => c.json(body(c.get('auth'), route.path)));
    else app.post(route.path, handler, (c) => c.json(body(c.get('auth'), route.path)));
  }
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};

export const mountNode: Mount = async (verifier) => {
  const handlers = new Map(
    ROUTES.map((r) => [`${r.method} ${r.path}`, { path: r.path, auth: nodeAuth(verifier, r.guards) }]),
  );
  const server = createServer((req, res) => {
    const route = handlers.get(`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`);
    if (route === undefined) {
      res.writeHead(404).end();
      return;
    }
    void route.auth(req, res).then((auth) => {
      if (auth === undefined) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body(auth, route.path)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};

export const ADAPTERS: readonly (readonly [string, Mount])[] = [
  ['express', mountExpress],
  ['fastify', mountFastify],
  ['hono', mountHono],
  ['node:http', mountNode],
];
