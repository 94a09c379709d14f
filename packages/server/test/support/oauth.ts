/**
 * Helpers for the OAuth tests: a server whose issuer is its own URL (stock clients check that discovery answers
 * for the URL they asked), an admin to register clients, and form posts.
 */

import { generateKeyPair, exportJWK, type CryptoKey, type JWK } from 'jose';

import type { Settings } from '../../src/config/index.js';
import type { Store } from '../../src/store/index.js';
import { signUp, startServer, type TestResponse, type TestServer } from './jot-server.js';
import { freePort } from './processes.js';

export { freePort };

/** A server on a port chosen first, with `issuer` = its URL. */
export async function startIssuer(
  settings: Settings = {},
  options: { store?: Store; dataDir?: string; clock?: () => number } = {},
): Promise<TestServer> {
  const port = await freePort();
  return startServer({ port, issuer: `http://127.0.0.1:${port}`, ...settings }, options);
}

/** Signs up the first user (the admin) and returns their access token. */
export async function adminToken(server: TestServer, email = 'admin@example.com'): Promise<string> {
  return (await signUp(server, email)).access_token;
}

/** Registers a client through the admin API; throws unless 201. */
export async function registerClient(
  server: TestServer,
  token: string,
  body: Record<string, unknown>,
): Promise<{ client: Record<string, unknown> & { client_id: string }; client_secret?: string }> {
  const res = await server.request('POST', '/api/admin/clients', { token, body });
  if (res.status !== 201) throw new Error(`client registration failed: ${res.status} ${res.text}`);
  return res.body;
}

/** Posts a form to the server. */
export async function postForm(
  server: TestServer,
  path: string,
  params: Record<string, string> | URLSearchParams,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  const raw = (params instanceof URLSearchParams ? params : new URLSearchParams(params)).toString();
  return server.request('POST', path, { raw, contentType: 'application/x-www-form-urlencoded', headers });
}

/** An ES256 key pair and its public JWK (with kid and alg). */
export async function clientKeyPair(kid = 'k1'): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}
