/**
 * The "orders" service: Express. Two kinds of caller:
 * - users, with their own Jot token (`GET /orders`, `POST /orders`; audience: the issuer);
 * - other services, with tokens for the orders audience (`ORDERS_AUDIENCE`, verified with `profile: 'rfc9068'`):
 *   `GET /internal/orders` only for the reports service's own client-credentials token, and
 *   `GET /internal/user-orders` only for a token the profile service got by token exchange, on a user's behalf.
 */
import express, { type Express } from 'express';

import { expressAuth, type Verifier } from '@jot/verify';

/** The audience other services ask Jot for when they call orders. */
export const ORDERS_AUDIENCE = 'https://orders.internal';

/** Builds the orders app. `services` verifies tokens issued for `ORDERS_AUDIENCE`. */
export function createOrdersApp(users: Verifier, services: Verifier): Express {
  const app = express();
  app.use(express.json());
  app.use('/orders', expressAuth(users));
  app.get('/orders', (req, res) => {
    res.json({ service: 'orders', user: req.auth?.claims.sub, orders: [] });
  });
  app.post('/orders', (req, res) => {
    res.status(201).json({ service: 'orders', user: req.auth?.claims.sub, created: true });
  });
  // A service's own token: no user, no act — and only the reports service.
  app.get(
    '/internal/orders',
    expressAuth(services, { clientIds: ['reports'], actors: false, scopes: ['orders:read'] }),
    (req, res) => {
      res.json({ service: 'orders', caller: req.auth?.claims.client_id, orders: [{ id: 1, total: 42 }] });
    },
  );
  // A user's orders, asked by the profile service on the user's behalf (RFC 8693 `act`).
  app.get(
    '/internal/user-orders',
    expressAuth(services, { actors: ['profile'], scopes: ['orders:read'] }),
    (req, res) => {
      res.json({
        service: 'orders',
        user: req.auth?.claims.sub,
        actor: req.auth?.claims.act?.sub,
        orders: [],
      });
    },
  );
  return app;
}
