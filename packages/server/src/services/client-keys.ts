/**
 * The public keys a `private_key_jwt` client signs its assertions with: the JWKS registered with the client, or
 * the one at its `jwks_uri` (fetched with a timeout and a size cap, cached for five minutes, refetched at most every
 * 30 s when an assertion names a `kid` the cached set lacks — the client rotated its key).
 */
import { KeySet } from '@jot/jose';

import type { Clock } from '../clock.js';
import type { OAuthClient } from '../store/index.js';

const CACHE_MS = 5 * 60_000;
const REFETCH_MS = 30_000;
const TIMEOUT_MS = 5_000;
const MAX_BYTES = 64 * 1024;

/** Resolves client keys. */
export interface ClientKeys {
  /** The client's key set; throws when a `jwks_uri` cannot be fetched and nothing is cached. */
  keysFor(client: OAuthClient): Promise<KeySet>;
  /** Refetches a `jwks_uri` set (rate-limited); undefined when not refetched. */
  refresh(client: OAuthClient): Promise<KeySet | undefined>;
}

interface Cached {
  keys: KeySet;
  /** Which registration it belongs to (`jwks`/`jwks_uri` changes bump `updatedAt`). */
  version: string;
  fetchedAt: number;
}

/** A `jwks_uri` that could not be read. */
export class ClientKeysUnavailable extends Error {
  override readonly name = 'ClientKeysUnavailable';
}

async function fetchJWKS(uri: string): Promise<KeySet> {
  const response = await fetch(uri, {
    headers: { accept: 'application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!response.ok) throw new ClientKeysUnavailable(`the client's jwks_uri answered ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_BYTES) throw new ClientKeysUnavailable("the client's JWKS is too large");
  return KeySet.fromJWKS(JSON.parse(text));
}

/** Builds the resolver. */
export function createClientKeys(clock: Clock): ClientKeys {
  const cache = new Map<string, Cached>();

  function versionOf(client: OAuthClient): string {
    return `${client.updatedAt}|${client.jwksUri ?? ''}`;
  }

  async function load(client: OAuthClient): Promise<KeySet> {
    const uri = client.jwksUri;
    if (uri === null) throw new ClientKeysUnavailable('the client has no keys');
    let keys: KeySet;
    try {
      keys = await fetchJWKS(uri);
    } catch (err) {
      if (err instanceof ClientKeysUnavailable) throw err;
      throw new ClientKeysUnavailable(
        `the client's jwks_uri could not be read (${err instanceof Error ? err.name : 'error'})`,
      );
    }
    if (cache.size > 1000) cache.clear();
    cache.set(client.clientId, { keys, version: versionOf(client), fetchedAt: clock() });
    return keys;
  }

  return {
    async keysFor(client) {
      if (client.jwks !== null) return KeySet.fromJWKS(client.jwks);
      const cached = cache.get(client.clientId);
      if (
        cached !== undefined &&
        cached.version === versionOf(client) &&
        clock() - cached.fetchedAt < CACHE_MS
      ) {
        return cached.keys;
      }
      try {
        return await load(client);
      } catch (err) {
        // A brief outage of the client's key host keeps the last good set rather than locking the client out.
        if (cached !== undefined && cached.version === versionOf(client)) return cached.keys;
        throw err;
      }
    },
    async refresh(client) {
      if (client.jwksUri === null) return undefined;
      const cached = cache.get(client.clientId);
      if (cached !== undefined && clock() - cached.fetchedAt < REFETCH_MS) return undefined;
      return load(client).catch(() => undefined);
    },
  };
}
