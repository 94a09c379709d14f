/**
 * The OAuth client registry (RFC 6749 §2): registering, listing, rotating secrets and removing clients, with every
 * field validated once, here. Secrets are 256 random bits shown once and stored as a SHA-256 hash; a
 * `client_secret_jwt` client's secret is also kept sealed under the KEK, because verifying its HMAC assertions
 * needs the key itself. Removing a client revokes every token issued to it, on this server and (through the feed)
 * in every resource server. A client's DPoP policy (`optional` or `required`, RFC 9449 §5.2) can be changed later.
 */
import { randomBytes } from 'node:crypto';

import {
  FIRST_PARTY_CLIENT_ID,
  OAUTH_URIS,
  type ClientRegistration,
  type ClientUpdate,
  type ClientView,
} from '@jot/contract';
import { KeySet } from '@jot/jose';

import type { Clock } from '../clock.js';
import type { Kek } from '../keys/kek.js';
import { SCOPE_TOKEN } from '../config/parsers.js';
import {
  StoreError,
  type ClientAuthMethod,
  type ClientDPoPPolicy,
  type NewOAuthClient,
  type OAuthClient,
  type Store,
} from '../store/index.js';
import type { RevocationService } from './revocation.js';
import { hashSecret, newSecret } from './secrets.js';
import { DomainError } from './errors.js';

/** The grant types a client may be allowed. */
export const GRANT_TYPES = ['client_credentials', 'refresh_token', OAUTH_URIS.tokenExchangeGrant] as const;

/** Client authentication methods (RFC 8414 §2 `token_endpoint_auth_methods_supported`). */
export const AUTH_METHODS: readonly ClientAuthMethod[] = [
  'private_key_jwt',
  'client_secret_jwt',
  'client_secret_basic',
  'client_secret_post',
  'none',
];

/** The DPoP policies a client may have. */
export const DPOP_POLICIES: readonly ClientDPoPPolicy[] = ['optional', 'required'];

/** What an admin sends to register a client. */
export type { ClientRegistration, ClientUpdate };

/** The registry. */
export interface ClientService {
  /** Registers a client; `client_secret` is returned once for secret methods. */
  register(input: ClientRegistration): Promise<{ client: OAuthClient; clientSecret?: string }>;
  /** A new secret; the old one stops working at once. */
  rotateSecret(clientId: string): Promise<{ client: OAuthClient; clientSecret: string }>;
  /** Changes a client's settings (its DPoP policy). */
  update(clientId: string, changes: ClientUpdate): Promise<OAuthClient>;
  /** Deletes the client and revokes every token issued to it. */
  remove(clientId: string): Promise<void>;
  get(clientId: string): Promise<OAuthClient | undefined>;
  list(): Promise<OAuthClient[]>;
  /** Registers the first-party public client `jot` unless it exists. */
  ensureFirstParty(): Promise<void>;
  /** The secret of a `client_secret_jwt` client (its HMAC key). */
  openSecret(client: OAuthClient): string | undefined;
}

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TTL_SECONDS = 24 * 3600;

function invalid(message: string): DomainError {
  return new DomainError('invalid', 'ERR_CLIENT_INVALID', message);
}

function names(value: readonly string[] | undefined, what: string, check: (s: string) => boolean): string[] {
  const list = value ?? [];
  for (const item of list) if (!check(item)) throw invalid(`${what}: "${item}" is not allowed`);
  return [...new Set(list)];
}

function isUri(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1 && value.length <= 512;
  } catch {
    return false;
  }
}

/** The public view of a client. */
export function clientView(client: OAuthClient): ClientView {
  const view: ClientView = {
    client_id: client.clientId,
    name: client.name,
    token_endpoint_auth_method: client.authMethod,
    grant_types: client.grantTypes,
    scopes: client.scopes,
    audiences: client.audiences,
    access_token_ttl: client.tokenTtlMs === null ? null : Math.floor(client.tokenTtlMs / 1000),
    first_party: client.firstParty,
    dpop: client.dpop,
    dpop_bound_access_tokens: client.dpop === 'required',
    created_at: new Date(client.createdAt).toISOString(),
    updated_at: new Date(client.updatedAt).toISOString(),
    secret_rotated_at:
      client.secretRotatedAt === null ? null : new Date(client.secretRotatedAt).toISOString(),
  };
  if (client.jwks !== null) view.jwks = client.jwks;
  if (client.jwksUri !== null) view.jwks_uri = client.jwksUri;
  return view;
}

/** The DPoP policy asked for by `dpop` and/or `dpop_bound_access_tokens` (which must agree), if any. */
function dpopPolicyOf(input: ClientUpdate): ClientDPoPPolicy | undefined {
  const { dpop, dpop_bound_access_tokens: bound } = input;
  if (dpop !== undefined && !DPOP_POLICIES.includes(dpop)) {
    throw invalid(`dpop must be one of ${DPOP_POLICIES.join(', ')}`);
  }
  if (bound !== undefined && typeof bound !== 'boolean')
    throw invalid('dpop_bound_access_tokens: true or false');
  const fromBound = bound === undefined ? undefined : bound ? 'required' : 'optional';
  if (dpop !== undefined && fromBound !== undefined && dpop !== fromBound) {
    throw invalid('"dpop" and "dpop_bound_access_tokens" disagree; send one of them');
  }
  return dpop ?? fromBound;
}

/** Checks a registration and turns it into a store row (without the secret). */
function validate(
  input: ClientRegistration,
  production: boolean,
): Omit<NewOAuthClient, 'secretHash' | 'sealedSecret'> {
  const clientId = input.client_id ?? `c_${randomBytes(12).toString('base64url')}`;
  if (!CLIENT_ID.test(clientId) || UUID.test(clientId)) {
    throw invalid('client_id: 1 to 64 of A-Z a-z 0-9 . _ ~ -, and not shaped like a UUID (user ids are)');
  }
  const method = input.token_endpoint_auth_method;
  if (!AUTH_METHODS.includes(method))
    throw invalid(`token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`);
  let jwks: Record<string, unknown> | null = null;
  let jwksUri: string | null = null;
  if (method === 'private_key_jwt') {
    if ((input.jwks === undefined) === (input.jwks_uri === undefined)) {
      throw invalid('private_key_jwt needs exactly one of "jwks" (the public keys) or "jwks_uri"');
    }
    if (input.jwks !== undefined) {
      let set: KeySet & { skipped: number };
      try {
        set = KeySet.fromJWKS(input.jwks);
      } catch {
        throw invalid('jwks: expected a JWK Set {"keys": […]}');
      }
      if (set.skipped > 0 || set.keys.length === 0 || set.keys.some((k) => k.type !== 'public')) {
        throw invalid('jwks: every key must be a usable public signing key (no private or symmetric keys)');
      }
      jwks = set.toJWKS() as unknown as Record<string, unknown>;
    } else {
      const uri = input.jwks_uri ?? '';
      if (!/^https:\/\//.test(uri) && !(production === false && /^http:\/\//.test(uri))) {
        throw invalid('jwks_uri must be an https URL (http is accepted outside production)');
      }
      if (!isUri(uri)) throw invalid('jwks_uri is not a URL');
      jwksUri = new URL(uri).href;
    }
  } else if (input.jwks !== undefined || input.jwks_uri !== undefined) {
    throw invalid('"jwks" and "jwks_uri" are only for private_key_jwt clients');
  }
  const grantTypes = names(input.grant_types ?? ['client_credentials'], 'grant_types', (g) =>
    (GRANT_TYPES as readonly string[]).includes(g),
  );
  if (method === 'none' && grantTypes.some((g) => g !== 'refresh_token')) {
    throw invalid('a public client (none) can only use refresh_token: it cannot keep a credential');
  }
  const audiences = names(input.audiences, 'audiences', isUri);
  if (audiences.length === 0 && grantTypes.some((g) => g !== 'refresh_token')) {
    throw invalid('audiences: list the resource servers (URIs) this client may get tokens for');
  }
  const ttl = input.access_token_ttl;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS)) {
    throw invalid(`access_token_ttl: seconds from 1 to ${MAX_TTL_SECONDS}`);
  }
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw invalid('name: 1 to 200 characters');
  return {
    clientId,
    name,
    authMethod: method,
    jwks,
    jwksUri,
    grantTypes,
    scopes: names(input.scopes, 'scopes', (s) => SCOPE_TOKEN.test(s)),
    audiences,
    tokenTtlMs: ttl === undefined ? null : ttl * 1000,
    firstParty: false,
    dpop: dpopPolicyOf(input) ?? 'optional',
  };
}

function usesSecret(method: ClientAuthMethod): boolean {
  return (
    method === 'client_secret_basic' || method === 'client_secret_post' || method === 'client_secret_jwt'
  );
}

/** Builds the registry. */
export function createClientService(deps: {
  store: Store;
  kek: Kek;
  revocations: RevocationService;
  clock: Clock;
  production: boolean;
  /** Lifetime of client tokens when the client sets none (a removed client's revocation entry covers it). */
  defaultTokenTtlMs: number;
}): ClientService {
  const { store, kek, revocations, clock } = deps;
  const aad = (clientId: string): string => `jot client secret|${clientId}`;

  function secretFields(clientId: string, method: ClientAuthMethod, secret: string) {
    return {
      secretHash: hashSecret(secret),
      sealedSecret:
        method === 'client_secret_jwt' ? kek.seal(Buffer.from(secret, 'utf8'), aad(clientId)) : null,
    };
  }

  async function found(clientId: string): Promise<OAuthClient> {
    const client = await store.getClient(clientId);
    if (client === undefined) throw new DomainError('not_found', 'ERR_NOT_FOUND', `no client "${clientId}"`);
    return client;
  }

  return {
    async register(input) {
      const row = validate(input, deps.production);
      const clientSecret = usesSecret(row.authMethod) ? newSecret() : undefined;
      const secret =
        clientSecret === undefined
          ? { secretHash: null, sealedSecret: null }
          : secretFields(row.clientId, row.authMethod, clientSecret);
      try {
        const client = await store.createClient({ ...row, ...secret });
        return clientSecret === undefined ? { client } : { client, clientSecret };
      } catch (err) {
        if (err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT') {
          throw new DomainError(
            'conflict',
            'ERR_CLIENT_EXISTS',
            `a client "${row.clientId}" is already registered`,
          );
        }
        throw err;
      }
    },
    async rotateSecret(clientId) {
      const client = await found(clientId);
      if (!usesSecret(client.authMethod)) {
        throw new DomainError(
          'invalid',
          'ERR_CLIENT_NO_SECRET',
          `client "${clientId}" authenticates with ${client.authMethod}, not a secret`,
        );
      }
      const clientSecret = newSecret();
      const updated = await store.updateClient(clientId, {
        ...secretFields(clientId, client.authMethod, clientSecret),
        secretRotatedAt: clock(),
      });
      if (updated === undefined)
        throw new DomainError('not_found', 'ERR_NOT_FOUND', `no client "${clientId}"`);
      return { client: updated, clientSecret };
    },
    async update(clientId, changes) {
      const client = await found(clientId);
      const dpop = dpopPolicyOf(changes);
      if (dpop === undefined) throw invalid('nothing to change: send "dpop" (optional or required)');
      if (client.firstParty) {
        throw invalid('the first-party client follows the server setting JOT_DPOP; change that instead');
      }
      const updated = await store.updateClient(clientId, { dpop });
      if (updated === undefined)
        throw new DomainError('not_found', 'ERR_NOT_FOUND', `no client "${clientId}"`);
      return updated;
    },
    async remove(clientId) {
      const client = await found(clientId);
      if (client.firstParty) {
        throw new DomainError('conflict', 'ERR_CLIENT_PROTECTED', 'the first-party client cannot be removed');
      }
      if (!(await store.deleteClient(clientId)))
        throw new DomainError('not_found', 'ERR_NOT_FOUND', `no client "${clientId}"`);
      await revocations.revokeClientTokens(clientId, client.tokenTtlMs ?? deps.defaultTokenTtlMs);
    },
    get: (clientId) => store.getClient(clientId),
    list: () => store.listClients(),
    async ensureFirstParty() {
      await store.ensureClient({
        clientId: FIRST_PARTY_CLIENT_ID,
        name: 'Jot sign-in (browser and apps)',
        authMethod: 'none',
        secretHash: null,
        sealedSecret: null,
        jwks: null,
        jwksUri: null,
        grantTypes: ['refresh_token'],
        scopes: [],
        audiences: [],
        tokenTtlMs: null,
        firstParty: true,
      });
    },
    openSecret(client) {
      if (client.sealedSecret === null) return undefined;
      return kek.open(client.sealedSecret, aad(client.clientId)).toString('utf8');
    },
  };
}
