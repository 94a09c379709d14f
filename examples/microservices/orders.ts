/** The "orders" service: Express, protected by `expressAuth` over a replicated-revocation verifier. */
import express, { type Express } from 'express';

import { expressAuth, type Verifier } from '@jot/verify';

/** Builds the orders app: `GET /orders` for any signed-in user, `POST /orders` too (CSRF applies to cookies). */
export function createOrdersApp(verifier: Verifier): Express {
  const app = express();
  app.use(express.json());
  app.use('/orders', expressAuth(verifier));
  app.get('/orders', (req, res) => {
    res.json({ service: 'orders', user: req.auth?.claims.sub, orders: [] });
  });
  app.post('/orders', (req, res) => {
    res.status(201).json({ service: 'orders', user: req.auth?.claims.sub, created: true });
  });
  return app;
}
