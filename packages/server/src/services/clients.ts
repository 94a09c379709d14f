/**
 * The OAuth client registry (RFC 6749 §2): registering, listing, rotating secrets and removing clients, with every
 * field validated once (client-registration.ts). Secrets are 256 random bits shown once and stored as a SHA-256 hash; a
 * `client_secret_jwt` client's secret is also kept sealed under the KEK, because verifying its HMAC assertions
 * needs the key itself. Removing a client revokes every token issued to it, on this server and (through the feed)
 * in every resource server. A client's DPoP policy (`optional` or `required`, RFC 9449 §5.2) and which access tokens
 * it may introspect (`own` or `any`, RFC 7662 §4) can be changed later.
 */
import { FIRST_PARTY_CLIENT_ID, type ClientRegistration, type ClientUpdate } from '@jot/contract';

import type { Clock } from '../clock.js';
import type { Kek } from '../keys/kek.js';
import { StoreError, type ClientAuthMethod, type OAuthClient, type Store } from '../store/index.js';
import { validateRegistration } from './client-registration.js';
import { clientInvalid, dpopPolicyOf, introspectionPolicyOf, usesSecret } from './client-rules.js';
import type { RevocationService } from './revocation.js';
import { hashSecret, newSecret } from './secrets.js';
import { DomainError } from './errors.js';
import { echoed } from './echoed.js';

/** What an admin sends to register a client. */
export type { ClientRegistration, ClientUpdate };

/** The registry. */
export interface ClientService {
  /** Registers a client; `client_secret` is returned once for secret methods. */
  register(input: ClientRegistration): Promise<{ client: OAuthClient; clientSecret?: string }>;
  /** A new secret; the old one stops working at once. */
  rotateSecret(clientId: string): Promise<{ client: OAuthClient; clientSecret: string }>;
  /** Changes a client's settings (its DPoP policy, its introspection policy). */
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

/** What the registry works with. */
interface RegistryDeps {
  store: Store;
  kek: Kek;
  revocations: RevocationService;
  clock: Clock;
  production: boolean;
  /** Lifetime of client tokens when the client sets none (a removed client's revocation entry covers it). */
  defaultTokenTtlMs: number;
}

/** The additional data a sealed `client_secret_jwt` secret is bound to. */
function secretAad(clientId: string): string {
  return `jot client secret|${clientId}`;
}

/** The stored form of a secret: its hash, and for `client_secret_jwt` the secret sealed under the KEK. */
function secretFields(
  kek: Kek,
  clientId: string,
  method: ClientAuthMethod,
  secret: string,
): { secretHash: string; sealedSecret: string | null } {
  return {
    secretHash: hashSecret(secret),
    sealedSecret:
      method === 'client_secret_jwt' ? kek.seal(Buffer.from(secret, 'utf8'), secretAad(clientId)) : null,
  };
}

function noClient(clientId: string): DomainError {
  return new DomainError('not_found', 'ERR_NOT_FOUND', `no client "${echoed(clientId)}"`);
}

async function found(store: Store, clientId: string): Promise<OAuthClient> {
  const client = await store.getClient(clientId);
  if (client === undefined) throw noClient(clientId);
  return client;
}

async function register(
  deps: RegistryDeps,
  input: ClientRegistration,
): Promise<{ client: OAuthClient; clientSecret?: string }> {
  const row = validateRegistration(input, deps.production);
  const clientSecret = usesSecret(row.authMethod) ? newSecret() : undefined;
  const secret =
    clientSecret === undefined
      ? { secretHash: null, sealedSecret: null }
      : secretFields(deps.kek, row.clientId, row.authMethod, clientSecret);
  try {
    const client = await deps.store.createClient({ ...row, ...secret });
    return clientSecret === undefined ? { client } : { client, clientSecret };
  } catch (err) {
    if (err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT') {
      throw new DomainError(
        'conflict',
        'ERR_CLIENT_EXISTS',
        `a client "${echoed(row.clientId)}" is already registered`,
      );
    }
    throw err;
  }
}

async function rotateSecret(
  deps: RegistryDeps,
  clientId: string,
): Promise<{ client: OAuthClient; clientSecret: string }> {
  const client = await found(deps.store, clientId);
  if (!usesSecret(client.authMethod)) {
    throw new DomainError(
      'invalid',
      'ERR_CLIENT_NO_SECRET',
      `client "${echoed(clientId)}" authenticates with ${client.authMethod}, not a secret`,
    );
  }
  const clientSecret = newSecret();
  const updated = await deps.store.updateClient(clientId, {
    ...secretFields(deps.kek, clientId, client.authMethod, clientSecret),
    secretRotatedAt: deps.clock(),
  });
  if (updated === undefined) throw noClient(clientId);
  return { client: updated, clientSecret };
}

async function update(store: Store, clientId: string, changes: ClientUpdate): Promise<OAuthClient> {
  const client = await found(store, clientId);
  const dpop = dpopPolicyOf(changes);
  const introspection = introspectionPolicyOf(changes, client.authMethod);
  if (dpop === undefined && introspection === undefined) {
    throw clientInvalid(
      'nothing to change: send "dpop" (optional or required) or "introspection" (own or any)',
    );
  }
  if (dpop !== undefined && client.firstParty) {
    throw clientInvalid('the first-party client follows the server setting JOT_DPOP; change that instead');
  }
  const updated = await store.updateClient(clientId, {
    ...(dpop === undefined ? {} : { dpop }),
    ...(introspection === undefined ? {} : { introspection }),
  });
  if (updated === undefined) throw noClient(clientId);
  return updated;
}

async function remove(deps: RegistryDeps, clientId: string): Promise<void> {
  const client = await found(deps.store, clientId);
  if (client.firstParty) {
    throw new DomainError('conflict', 'ERR_CLIENT_PROTECTED', 'the first-party client cannot be removed');
  }
  if (!(await deps.store.deleteClient(clientId))) throw noClient(clientId);
  await deps.revocations.revokeClientTokens(clientId, client.tokenTtlMs ?? deps.defaultTokenTtlMs);
}

async function ensureFirstParty(store: Store): Promise<void> {
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
}

/** Builds the registry. */
export function createClientService(deps: RegistryDeps): ClientService {
  const { store, kek } = deps;
  return {
    register: (input) => register(deps, input),
    rotateSecret: (clientId) => rotateSecret(deps, clientId),
    update: (clientId, changes) => update(store, clientId, changes),
    remove: (clientId) => remove(deps, clientId),
    get: (clientId) => store.getClient(clientId),
    list: () => store.listClients(),
    ensureFirstParty: () => ensureFirstParty(store),
    openSecret(client) {
      if (client.sealedSecret === null) return undefined;
      return kek.open(client.sealedSecret, secretAad(client.clientId)).toString('utf8');
    },
  };
}
