/** Queries on `signing_keys`: the issuer's key ring, private halves encrypted by the caller. */
import type { Kysely, Selectable } from 'kysely';
import { parseJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import type { Schema, SigningKeysTable } from './schema.js';

/** A signing key record. Times are epoch ms. */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** The public JWK as published. */
  publicJwk: JsonObject;
  /** The private key, encrypted under the KEK by the caller. */
  privateKeyCiphertext: string;
  createdAt: number;
  /** May sign from this time on; published before it. */
  activatesAt: number;
  /** Stopped signing at; null while current. */
  retiredAt: number | null;
  /** Leaves the JWKS at; null while not scheduled. */
  expiresAt: number | null;
}

/** Input of `insertSigningKey`. */
export interface NewSigningKey {
  kid: string;
  alg: string;
  publicJwk: JsonObject;
  privateKeyCiphertext: string;
  /** Defaults to now. */
  activatesAt?: number;
  retiredAt?: number | null;
  expiresAt?: number | null;
}

/** Fields `updateSigningKey` may change; absent fields are left alone. */
export interface SigningKeyPatch {
  activatesAt?: number;
  retiredAt?: number | null;
  expiresAt?: number | null;
}

type Db = Kysely<Schema>;

function toSigningKey(row: Selectable<SigningKeysTable>): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJwk: parseJsonObject(row.public_jwk),
    privateKeyCiphertext: row.private_key_ciphertext,
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiredAt: row.retired_at,
    expiresAt: row.expires_at,
  };
}

export async function insertSigningKey(db: Db, input: NewSigningKey, now: number): Promise<SigningKeyRecord> {
  const row = await db
    .insertInto('signing_keys')
    .values({
      kid: input.kid,
      alg: input.alg,
      public_jwk: JSON.stringify(input.publicJwk),
      private_key_ciphertext: input.privateKeyCiphertext,
      created_at: now,
      activates_at: input.activatesAt ?? now,
      retired_at: input.retiredAt ?? null,
      expires_at: input.expiresAt ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSigningKey(row);
}

export async function listSigningKeys(db: Db): Promise<SigningKeyRecord[]> {
  const rows = await db
    .selectFrom('signing_keys')
    .selectAll()
    .orderBy('activates_at')
    .orderBy('kid')
    .execute();
  return rows.map(toSigningKey);
}

export async function updateSigningKey(
  db: Db,
  kid: string,
  patch: SigningKeyPatch,
): Promise<SigningKeyRecord | undefined> {
  const set: Partial<Pick<SigningKeysTable, 'activates_at' | 'retired_at' | 'expires_at'>> = {};
  if (patch.activatesAt !== undefined) set.activates_at = patch.activatesAt;
  if (patch.retiredAt !== undefined) set.retired_at = patch.retiredAt;
  if (patch.expiresAt !== undefined) set.expires_at = patch.expiresAt;
  if (Object.keys(set).length === 0) {
    const row = await db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
    return row && toSigningKey(row);
  }
  const row = await db
    .updateTable('signing_keys')
    .set(set)
    .where('kid', '=', kid)
    .returningAll()
    .executeTakeFirst();
  return row && toSigningKey(row);
}

export async function deleteExpiredKeys(db: Db, now: number): Promise<string[]> {
  const rows = await db
    .deleteFrom('signing_keys')
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', now)
    .returning('kid')
    .execute();
  return rows.map((r) => r.kid).sort();
}
