/**
 * The "reports" service: plain `node:http`, no users at all. `GET /reports/daily` calls the orders service with its
 * own client-credentials token — `@jot/service` signs an RFC 7523 assertion with the service's private key, gets a
 * token for the orders audience, caches it until shortly before it expires, and sends it.
 */
import { createServer, type Server } from 'node:http';

import type { ServiceClient } from '@jot/service';

import { ORDERS_AUDIENCE } from './orders.js';

/** Builds the reports server. */
export function createReportsServer(service: ServiceClient, ordersUrl: () => string): Server {
  return createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/reports/daily') {
      res.writeHead(404).end();
      return;
    }
    service
      .fetch(`${ordersUrl()}/internal/orders`, { audience: ORDERS_AUDIENCE, scope: 'orders:read' })
      .then(async (upstream) => {
        const body = (await upstream.json()) as { orders?: { total: number }[] };
        const total = (body.orders ?? []).reduce((sum, order) => sum + order.total, 0);
        res.writeHead(upstream.status === 200 ? 200 : 502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ service: 'reports', upstream: upstream.status, total }));
      })
      .catch(() => {
        res
          .writeHead(502, { 'content-type': 'application/json' })
          .end(JSON.stringify({ service: 'reports' }));
      });
  });
}
