/**
 * Checks a client registration (RFC 7591-like, from `/api/admin/clients` or `jot clients add`) field by field and
 * turns it into a store row, without the secret. Every rule is here, once; a broken one is a 400
 * `ERR_CLIENT_INVALID` naming the field.
 */
import { randomBytes } from 'node:crypto';

import type { ClientRegistration } from '@jot/contract';
import { KeySet } from '@jot/jose';

import { SCOPE_TOKEN } from '../config/parsers.js';
import { resourceIndicatorProblem } from './resource-indicator.js';
import { echoed } from './echoed.js';
import type { ClientAuthMethod, NewOAuthClient } from '../store/index.js';
import {
  AUTH_METHODS,
  clientInvalid as invalid,
  dpopPolicyOf,
  GRANT_TYPES,
  introspectionPolicyOf,
} from './client-rules.js';

/** A validated registration: the store row but for the secret. */
export type ClientRow = Omit<NewOAuthClient, 'secretHash' | 'sealedSecret'>;

/** What a client id may look like (registration refuses any other). */
export const CLIENT_ID_SHAPE = /^[A-Za-z0-9._~-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TTL_SECONDS = 24 * 3600;

function names(value: readonly string[] | undefined, what: string, check: (s: string) => boolean): string[] {
  const list = value ?? [];
  for (const item of list) if (!check(item)) throw invalid(`${what}: "${echoed(item)}" is not allowed`);
  return [...new Set(list)];
}

function isUri(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1 && value.length <= 512;
  } catch {
    return false;
  }
}

function clientIdOf(input: ClientRegistration): string {
  const clientId = input.client_id ?? `c_${randomBytes(12).toString('base64url')}`;
  if (!CLIENT_ID_SHAPE.test(clientId) || UUID.test(clientId)) {
    throw invalid('client_id: 1 to 64 of A-Z a-z 0-9 . _ ~ -, and not shaped like a UUID (user ids are)');
  }
  return clientId;
}

/** An inline JWKS: public signing keys only. */
function publicJwks(jwks: unknown): Record<string, unknown> {
  let set: KeySet & { skipped: number };
  try {
    set = KeySet.fromJWKS(jwks);
  } catch {
    throw invalid('jwks: expected a JWK Set {"keys": […]}');
  }
  if (set.skipped > 0 || set.keys.length === 0 || set.keys.some((k) => k.type !== 'public')) {
    throw invalid('jwks: every key must be a usable public signing key (no private or symmetric keys)');
  }
  // A client assertion names its key by `kid`: two keys with one would leave it ambiguous.
  const kids = new Set<string>();
  for (const { kid } of set.keys) {
    if (kid === undefined) continue;
    if (kids.has(kid)) throw invalid(`jwks: two keys have the kid "${echoed(kid)}"; give each key its own`);
    kids.add(kid);
  }
  return set.toJWKS() as unknown as Record<string, unknown>;
}

/** A `jwks_uri`: https (http outside production). */
function jwksUriOf(uri: string, production: boolean): string {
  if (!/^https:\/\//.test(uri) && !(production === false && /^http:\/\//.test(uri))) {
    throw invalid('jwks_uri must be an https URL (http is accepted outside production)');
  }
  if (!isUri(uri)) throw invalid('jwks_uri is not a URL');
  return new URL(uri).href;
}

/** `jwks` or `jwks_uri`: exactly one for `private_key_jwt`, neither for any other method. */
function keysOf(
  input: ClientRegistration,
  method: ClientAuthMethod,
  production: boolean,
): Pick<ClientRow, 'jwks' | 'jwksUri'> {
  if (method !== 'private_key_jwt') {
    if (input.jwks !== undefined || input.jwks_uri !== undefined) {
      throw invalid('"jwks" and "jwks_uri" are only for private_key_jwt clients');
    }
    return { jwks: null, jwksUri: null };
  }
  if ((input.jwks === undefined) === (input.jwks_uri === undefined)) {
    throw invalid('private_key_jwt needs exactly one of "jwks" (the public keys) or "jwks_uri"');
  }
  return input.jwks !== undefined
    ? { jwks: publicJwks(input.jwks), jwksUri: null }
    : { jwks: null, jwksUri: jwksUriOf(input.jwks_uri ?? '', production) };
}

/** Grant types and audiences: a public client only refreshes; a client that gets tokens names their audiences. */
function grantsOf(
  input: ClientRegistration,
  method: ClientAuthMethod,
): Pick<ClientRow, 'grantTypes' | 'audiences'> {
  const grantTypes = names(input.grant_types ?? ['client_credentials'], 'grant_types', (g) =>
    (GRANT_TYPES as readonly string[]).includes(g),
  );
  if (method === 'none' && grantTypes.some((g) => g !== 'refresh_token')) {
    throw invalid('a public client (none) can only use refresh_token: it cannot keep a credential');
  }
  // The rule `/oauth/token` applies to `resource`: an audience it would refuse is never registered.
  const audiences = [...new Set(input.audiences ?? [])];
  for (const audience of audiences) {
    const problem = resourceIndicatorProblem(audience);
    if (problem !== undefined) {
      throw invalid(
        `audiences: "${echoed(audience)}" ${problem} (RFC 8707 section 2: an absolute URI, no fragment)`,
      );
    }
  }
  if (audiences.length === 0 && grantTypes.some((g) => g !== 'refresh_token')) {
    throw invalid('audiences: list the resource servers (URIs) this client may get tokens for');
  }
  return { grantTypes, audiences };
}

function tokenTtlMsOf(ttl: number | undefined): number | null {
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS)) {
    throw invalid(`access_token_ttl: seconds from 1 to ${MAX_TTL_SECONDS}`);
  }
  return ttl === undefined ? null : ttl * 1000;
}

/** Checks a registration and turns it into a store row (without the secret). */
export function validateRegistration(input: ClientRegistration, production: boolean): ClientRow {
  const clientId = clientIdOf(input);
  const method = input.token_endpoint_auth_method;
  if (!AUTH_METHODS.includes(method))
    throw invalid(`token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`);
  const keys = keysOf(input, method, production);
  const grants = grantsOf(input, method);
  const tokenTtlMs = tokenTtlMsOf(input.access_token_ttl);
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw invalid('name: 1 to 200 characters');
  return {
    clientId,
    name,
    authMethod: method,
    ...keys,
    ...grants,
    scopes: names(input.scopes, 'scopes', (s) => SCOPE_TOKEN.test(s)),
    tokenTtlMs,
    firstParty: false,
    dpop: dpopPolicyOf(input) ?? 'optional',
    introspection: introspectionPolicyOf(input, method) ?? 'own',
  };
}
