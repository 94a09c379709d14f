/** Queries on `oauth_clients` (the client registry) and `assertion_jtis` (single-use client-assertion ids). */
import type { ClientAuthMethod, ClientDPoPPolicy, ClientIntrospectionPolicy } from '@jot/contract';
import type { Kysely, Selectable } from 'kysely';

import { parseJsonObject, parseStringArray } from './json.js';
import type { OAuthClientsTable, Schema } from './schema.js';

/** How a client authenticates at the token, revocation and introspection endpoints (RFC 8414 §2 names). */
export type { ClientAuthMethod };

/** Whether a client's token requests must carry a DPoP proof (RFC 9449 §5.2 `dpop_bound_access_tokens`). */
export type { ClientDPoPPolicy };

/** Which access tokens a client may introspect (RFC 7662 §4): those issued to it or naming it, or any. */
export type { ClientIntrospectionPolicy };

/** A registered client as callers see it. Times are epoch ms. */
export interface OAuthClient {
  clientId: string;
  name: string;
  authMethod: ClientAuthMethod;
  /** Hex SHA-256 of the secret (secret methods). */
  secretHash: string | null;
  /** The secret sealed under the KEK (`client_secret_jwt` only: it is the HMAC key). */
  sealedSecret: string | null;
  /** The registered public JWKS (`private_key_jwt`), or null when `jwksUri` is used. */
  jwks: Record<string, unknown> | null;
  jwksUri: string | null;
  grantTypes: string[];
  scopes: string[];
  audiences: string[];
  /** Access-token lifetime for this client; null = the server's default. */
  tokenTtlMs: number | null;
  firstParty: boolean;
  /** `required`: the token endpoint refuses this client's requests without a DPoP proof. */
  dpop: ClientDPoPPolicy;
  /** `own`: it may introspect only access tokens issued to it or naming it in `aud`; `any`: every one. */
  introspection: ClientIntrospectionPolicy;
  createdAt: number;
  updatedAt: number;
  secretRotatedAt: number | null;
}

/** Input of `createClient`. */
export type NewOAuthClient = Omit<
  OAuthClient,
  'createdAt' | 'updatedAt' | 'secretRotatedAt' | 'dpop' | 'introspection'
> & {
  /** @default 'optional' */
  dpop?: ClientDPoPPolicy;
  /** @default 'own' */
  introspection?: ClientIntrospectionPolicy;
};

/** What `updateClient` may change. */
export type OAuthClientPatch = Partial<
  Pick<
    OAuthClient,
    | 'name'
    | 'secretHash'
    | 'sealedSecret'
    | 'jwks'
    | 'jwksUri'
    | 'grantTypes'
    | 'scopes'
    | 'audiences'
    | 'tokenTtlMs'
    | 'secretRotatedAt'
    | 'dpop'
    | 'introspection'
  >
>;

type Db = Kysely<Schema>;

const AUTH_METHODS: ReadonlySet<string> = new Set([
  'private_key_jwt',
  'client_secret_jwt',
  'client_secret_basic',
  'client_secret_post',
  'none',
]);

function toClient(row: Selectable<OAuthClientsTable>): OAuthClient {
  return {
    clientId: row.client_id,
    name: row.name,
    // A hand-edited unknown method reads as `none`-less: `private_key_jwt` with no keys authenticates nobody.
    authMethod: (AUTH_METHODS.has(row.auth_method) ? row.auth_method : 'private_key_jwt') as ClientAuthMethod,
    secretHash: row.secret_hash,
    sealedSecret: row.sealed_secret,
    jwks: row.jwks === null ? null : parseJsonObject(row.jwks),
    jwksUri: row.jwks_uri,
    grantTypes: parseStringArray(row.grant_types),
    scopes: parseStringArray(row.scopes),
    audiences: parseStringArray(row.audiences),
    tokenTtlMs: row.token_ttl_ms === null ? null : Number(row.token_ttl_ms),
    firstParty: Number(row.first_party) === 1,
    // Anything but `optional` reads as `required`: a hand-edited value fails closed.
    dpop: row.dpop_policy === 'optional' ? 'optional' : 'required',
    // Likewise anything but `any` reads as `own`.
    introspection: row.introspection === 'any' ? 'any' : 'own',
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    secretRotatedAt: row.secret_rotated_at === null ? null : Number(row.secret_rotated_at),
  };
}

function patchRow(patch: OAuthClientPatch): Partial<Selectable<OAuthClientsTable>> {
  const row: Partial<Selectable<OAuthClientsTable>> = {};
  if (patch.name !== undefined) row.name = patch.name;
  if (patch.secretHash !== undefined) row.secret_hash = patch.secretHash;
  if (patch.sealedSecret !== undefined) row.sealed_secret = patch.sealedSecret;
  if (patch.jwks !== undefined) row.jwks = patch.jwks === null ? null : JSON.stringify(patch.jwks);
  if (patch.jwksUri !== undefined) row.jwks_uri = patch.jwksUri;
  if (patch.grantTypes !== undefined) row.grant_types = JSON.stringify(patch.grantTypes);
  if (patch.scopes !== undefined) row.scopes = JSON.stringify(patch.scopes);
  if (patch.audiences !== undefined) row.audiences = JSON.stringify(patch.audiences);
  if (patch.tokenTtlMs !== undefined) row.token_ttl_ms = patch.tokenTtlMs;
  if (patch.secretRotatedAt !== undefined) row.secret_rotated_at = patch.secretRotatedAt;
  if (patch.dpop !== undefined) row.dpop_policy = patch.dpop;
  if (patch.introspection !== undefined) row.introspection = patch.introspection;
  return row;
}

export async function createClient(
  db: Db,
  input: NewOAuthClient,
  now: number,
  options: { ifAbsent?: boolean } = {},
): Promise<OAuthClient | undefined> {
  let query = db.insertInto('oauth_clients').values({
    client_id: input.clientId,
    name: input.name,
    auth_method: input.authMethod,
    secret_hash: input.secretHash,
    sealed_secret: input.sealedSecret,
    jwks: input.jwks === null ? null : JSON.stringify(input.jwks),
    jwks_uri: input.jwksUri,
    grant_types: JSON.stringify(input.grantTypes),
    scopes: JSON.stringify(input.scopes),
    audiences: JSON.stringify(input.audiences),
    token_ttl_ms: input.tokenTtlMs,
    first_party: input.firstParty ? 1 : 0,
    dpop_policy: input.dpop ?? 'optional',
    introspection: input.introspection ?? 'own',
    created_at: now,
    updated_at: now,
    secret_rotated_at: null,
  });
  if (options.ifAbsent) query = query.onConflict((oc) => oc.column('client_id').doNothing());
  const row = await query.returningAll().executeTakeFirst();
  return row && toClient(row);
}

export async function getClient(db: Db, clientId: string): Promise<OAuthClient | undefined> {
  const row = await db
    .selectFrom('oauth_clients')
    .selectAll()
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return row && toClient(row);
}

export async function listClients(db: Db): Promise<OAuthClient[]> {
  const rows = await db
    .selectFrom('oauth_clients')
    .selectAll()
    .orderBy('created_at')
    .orderBy('client_id')
    .execute();
  return rows.map(toClient);
}

export async function updateClient(
  db: Db,
  clientId: string,
  patch: OAuthClientPatch,
  now: number,
): Promise<OAuthClient | undefined> {
  const row = await db
    .updateTable('oauth_clients')
    .set({ ...patchRow(patch), updated_at: now })
    .where('client_id', '=', clientId)
    .returningAll()
    .executeTakeFirst();
  return row && toClient(row);
}

/** The longest access-token lifetime any client is registered with (`access_token_ttl`), 0 when none sets one. */
export async function longestTokenTtlMs(db: Db): Promise<number> {
  const row = await db
    .selectFrom('oauth_clients')
    .select((eb) => eb.fn.max('token_ttl_ms').as('longest'))
    .executeTakeFirst();
  return row?.longest === null || row?.longest === undefined ? 0 : Number(row.longest);
}

export async function deleteClient(db: Db, clientId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('oauth_clients')
    .where('client_id', '=', clientId)
    .where('first_party', '=', 0)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** INSERT of the assertion id: the primary key lets exactly one caller win, on any number of instances. */
export async function recordAssertionJti(
  db: Db,
  jtiHash: string,
  clientId: string,
  expiresAt: number,
): Promise<boolean> {
  const row = await db
    .insertInto('assertion_jtis')
    .values({ jti_hash: jtiHash, client_id: clientId, expires_at: expiresAt })
    .onConflict((oc) => oc.column('jti_hash').doNothing())
    .returning('jti_hash')
    .executeTakeFirst();
  return row !== undefined;
}

export async function pruneAssertionJtis(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('assertion_jtis').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
