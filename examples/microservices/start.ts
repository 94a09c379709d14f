/**
 * Starts the Jot auth server and three services on free localhost ports:
 * - "orders" (Express) and "profile" (Hono), each verifying tokens locally from the JWKS with `replicated`
 *   revocation (snapshot + SSE stream) and a small staleness bound;
 * - "reports" (node:http), which calls orders with its own client-credentials token, while profile calls orders on
 *   a user's behalf with token exchange. Both are OAuth clients registered with their public keys
 *   (`private_key_jwt`); in production that is `jot clients add`, here it is done in-process.
 *
 * Run all three: `npx vite-node -c vitest.config.ts examples/microservices/run.ts`.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { serve } from '@hono/node-server';

import { createServer, loadConfig } from '@jot/server';
import { createServiceClient, type ServiceClient } from '@jot/service';
import { createVerifier, type Duration, type Verifier } from '@jot/verify';

import { createOrdersApp, ORDERS_AUDIENCE } from './orders.js';
import { createProfileApp } from './profile.js';
import { createReportsServer } from './reports.js';

/** The running demo. */
export interface Microservices {
  auth: string;
  orders: string;
  profile: string;
  reports: string;
  verifiers: { orders: Verifier; ordersInternal: Verifier; profile: Verifier };
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
      // Every user may read orders; services get tokens narrowed to what they are registered for.
      roleScopes: '*=profile orders:read',
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
  const verifiers = {
    orders: verifierFor(),
    // Tokens other services obtain for the orders audience: RFC 9068 profile (a service's own token has no session).
    ordersInternal: createVerifier({
      issuer,
      audience: ORDERS_AUDIENCE,
      profile: 'rfc9068',
      revocation: { strategy: 'replicated', secret, maxStaleness: options.maxStaleness ?? '10s' },
      logger: options.quiet ? { info() {}, warn() {}, error() {} } : undefined,
    }),
    profile: verifierFor(),
  };
  await Promise.all(Object.values(verifiers).map((v) => v.ready()));

  const serviceFor = async (clientId: string, grant: string): Promise<ServiceClient> => {
    // Asked for already encoded: exporting a key object straight from the generation job can deadlock Node
    // (its destructor and the export lock the same key); a key imported from the PEM is independent of it.
    const { privateKey, publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    await auth.jot.clients.register({
      client_id: clientId,
      name: `The ${clientId} service`,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: {
        keys: [
          {
            ...createPublicKey(publicKey).export({ format: 'jwk' }),
            kid: `${clientId}-1`,
            alg: 'ES256',
            use: 'sig',
          },
        ],
      },
      grant_types: [grant],
      scopes: ['orders:read'],
      audiences: [ORDERS_AUDIENCE],
    });
    return createServiceClient({
      issuer,
      clientId,
      privateKey,
      kid: `${clientId}-1`,
    });
  };
  const services = {
    reports: await serviceFor('reports', 'client_credentials'),
    profile: await serviceFor('profile', 'urn:ietf:params:oauth:grant-type:token-exchange'),
  };

  let orders = '';
  const ordersServer = createOrdersApp(verifiers.orders, verifiers.ordersInternal).listen(0, '127.0.0.1');
  const profileServer = serve({
    fetch: createProfileApp(verifiers.profile, { service: services.profile, ordersUrl: () => orders }).fetch,
    port: 0,
    hostname: '127.0.0.1',
  }) as Server;
  const reportsServer = createReportsServer(services.reports, () => orders).listen(0, '127.0.0.1');
  const [ordersUrl, profile, reports] = await Promise.all([
    listen(ordersServer),
    listen(profileServer),
    listen(reportsServer),
  ]);
  orders = ordersUrl;

  return {
    auth: issuer,
    orders,
    profile,
    reports,
    verifiers,
    async close() {
      await Promise.all(Object.values(verifiers).map((v) => v.close()));
      for (const server of [ordersServer, profileServer, reportsServer]) server.closeAllConnections();
      await Promise.all(
        [ordersServer, profileServer, reportsServer].map(
          (server) => new Promise((resolve) => server.close(resolve)),
        ),
      );
      await auth.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
