/**
 * Client authentication at the OAuth endpoints (RFC 6749 §2.3): HTTP Basic (`client_secret_basic`, with the
 * §2.3.1 form-encoding of id and secret), `client_secret` in the body (`client_secret_post`), an RFC 7523 assertion
 * (`private_key_jwt`, `client_secret_jwt`), or a bare `client_id` for a public client (`none`). A client must use
 * the one method it is registered with, and a request may use only one method (§2.3). Every failure is the same
 * 401 `invalid_client` as far as the caller can tell which part was wrong — except the assertion checks, whose
 * reasons help a developer and reveal nothing secret.
 */
import { Buffer } from 'node:buffer';

import { OAUTH_URIS } from '@jot/contract';

import type { OAuthForm } from './grants/types.js';
import type { ClientAuthMethod, OAuthClient } from '../store/index.js';
import { verifyClientAssertion, type AssertionDeps } from './client-assertion.js';
import { hashSecret, safeEqual } from './secrets.js';
import { DomainError } from './errors.js';

/** An authenticated client and how it authenticated. */
export interface AuthenticatedClient {
  client: OAuthClient;
  method: ClientAuthMethod;
}

/** Compared against when the client is unknown, so timing does not tell unknown ids from wrong secrets. */
const DUMMY_HASH = hashSecret('jot: no such client');

function failed(): never {
  throw new DomainError('client', 'ERR_CLIENT_AUTH_FAILED', 'client authentication failed');
}

/** RFC 6749 §2.3.1: id and secret are form-encoded, then joined by ':' and base64-encoded. */
export function parseBasic(header: string): { id: string; secret: string } {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  const decoded = match === null ? '' : Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1)
    throw new DomainError('client', 'ERR_CLIENT_AUTH_FAILED', 'the Basic credentials are malformed');
  try {
    const decode = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    throw new DomainError('client', 'ERR_CLIENT_AUTH_FAILED', 'the Basic credentials are malformed');
  }
}

async function bySecret(
  deps: AssertionDeps,
  id: string,
  secret: string,
  method: 'client_secret_basic' | 'client_secret_post',
): Promise<AuthenticatedClient> {
  const client = id.length <= 64 ? await deps.store.getClient(id) : undefined;
  const matches = safeEqual(hashSecret(secret), client?.secretHash ?? DUMMY_HASH);
  if (client === undefined || client.secretHash === null || !matches) failed();
  if (client.authMethod !== method) {
    throw new DomainError(
      'client',
      'ERR_CLIENT_AUTH_FAILED',
      `this client is registered for ${client.authMethod}, not ${method}`,
    );
  }
  return { client, method };
}

/**
 * Authenticates the client of an OAuth request; undefined when the request carries no client credentials and no
 * `client_id` at all (the caller decides whether another credential, e.g. the resource-server secret, applies).
 * `audiences` are the values an assertion's `aud` may name (the issuer and this endpoint).
 */
export async function authenticateClient(
  deps: AssertionDeps,
  request: { authorization: string | undefined; form: OAuthForm },
  audiences: readonly string[],
): Promise<AuthenticatedClient | undefined> {
  const { form } = request;
  const basic = request.authorization !== undefined && /^Basic /i.test(request.authorization);
  const used = [basic, form.client_secret !== undefined, form.client_assertion !== undefined].filter(
    Boolean,
  ).length;
  if (used > 1) {
    throw new DomainError(
      'invalid',
      'ERR_OAUTH_REQUEST',
      'use exactly one client authentication method (RFC 6749 §2.3)',
    );
  }
  if (basic) {
    const { id, secret } = parseBasic(request.authorization ?? '');
    if (form.client_id !== undefined && form.client_id !== id) failed();
    return bySecret(deps, id, secret, 'client_secret_basic');
  }
  if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
    if (form.client_assertion_type !== OAUTH_URIS.jwtBearerAssertion || form.client_assertion === undefined) {
      throw new DomainError(
        'client',
        'ERR_CLIENT_ASSERTION_INVALID',
        `send client_assertion with client_assertion_type=${OAUTH_URIS.jwtBearerAssertion}`,
      );
    }
    const client = await verifyClientAssertion(deps, form.client_assertion, audiences, form.client_id);
    return { client, method: client.authMethod };
  }
  if (form.client_secret !== undefined) {
    if (form.client_id === undefined) failed();
    return bySecret(deps, form.client_id, form.client_secret, 'client_secret_post');
  }
  if (form.client_id === undefined) return undefined;
  const client = form.client_id.length <= 64 ? await deps.store.getClient(form.client_id) : undefined;
  if (client === undefined) failed();
  if (client.authMethod !== 'none') {
    throw new DomainError(
      'client',
      'ERR_CLIENT_AUTH_FAILED',
      `this client must authenticate (${client.authMethod})`,
    );
  }
  return { client, method: 'none' };
}
