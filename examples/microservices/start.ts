/**
 * Starts the Jot auth server and two resource services on free localhost ports:
 * - "orders" (Express) and "profile" (Hono), each verifying tokens locally from the JWKS with `replicated`
 *   revocation (snapshot + SSE stream) and a small staleness bound.
 *
 * Run all three: `npx vite-node -c vitest.config.ts examples/microservices/run.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { serve } from '@hono/node-server';

import { createServer, loadConfig } from '@jot/server';
import { createVerifier, type Duration, type Verifier } from '@jot/verify';

import { createOrdersApp } from './orders.js';
import { createProfileApp } from './profile.js';

/** The running demo. */
export interface Microservices {
  auth: string;
  orders: string;
  profile: string;
  verifiers: { orders: Verifier; profile: Verifier };
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    const done = (): void => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    if (server.listening) done();
    else server.once('listening', done);
  });
}

/** Starts all three; `maxStaleness` bounds how long a service may act on an old revocation list. */
export async function startMicroservices(
  options: { maxStaleness?: Duration; quiet?: boolean } = {},
): Promise<Microservices> {
  const secret = randomBytes(32).toString('base64url');
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-microservices-'));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    env: {},
    file: false,
    overrides: {
      nodeEnv: 'development',
      port,
      issuer,
      dataDir,
      revocationSecret: secret,
      signingAlg: 'ES256',
      logLevel: options.quiet ? 'silent' : 'warn',
      argon2MemoryKib: 8192,
      argon2TimeCost: 1,
    },
  });
  const auth = await createServer({ config });
  await auth.listen({ port, host: '127.0.0.1' });

  const verifierFor = (): Verifier =>
    createVerifier({
      issuer,
      audience: issuer, // Jot's default audience is the issuer URL (JOT_AUDIENCE changes it)
      revocation: { strategy: 'replicated', secret, maxStaleness: options.maxStaleness ?? '10s' },
      logger: options.quiet ? { info() {}, warn() {}, error() {} } : undefined,
    });
  const verifiers = { orders: verifierFor(), profile: verifierFor() };
  await Promise.all([verifiers.orders.ready(), verifiers.profile.ready()]);

  const ordersServer = createOrdersApp(verifiers.orders).listen(0, '127.0.0.1');
  const profileServer = serve({
    fetch: createProfileApp(verifiers.profile).fetch,
    port: 0,
    hostname: '127.0.0.1',
  }) as Server;
  const [orders, profile] = await Promise.all([listen(ordersServer), listen(profileServer)]);

  return {
    auth: issuer,
    orders,
    profile,
    verifiers,
    async close() {
      await Promise.all([verifiers.orders.close(), verifiers.profile.close()]);
      ordersServer.closeAllConnections();
      profileServer.closeAllConnections();
      await Promise.all([
        new Promise((resolve) => ordersServer.close(resolve)),
        new Promise((resolve) => profileServer.close(resolve)),
      ]);
      await auth.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
