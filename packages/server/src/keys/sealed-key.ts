/**
 * A signing key to and from its `signing_keys` row. The private JWK is sealed under the KEK with `alg` and `kid`
 * as associated data, so a row's algorithm or kid cannot be edited, nor a ciphertext moved to another row.
 * On load the public key is derived from the decrypted private key rather than read from `public_jwk`: a database
 * writer without the KEK cannot get a key of their own published.
 */
import { Buffer } from 'node:buffer';

import { importJWK, isAlgorithm, isJoseError } from '@jot/jose';
import type { Algorithm, JWK, Key } from '@jot/jose';

import type { NewSigningKey, SigningKeyRecord } from '../store/index.js';
import { KeyError } from './errors.js';
import type { Kek } from './kek.js';

function associatedData(kid: string, alg: string): string {
  return `jot signing key|${alg}|${kid}`;
}

/** The JWK published for a key: the public half, or for an HMAC secret only its `kty`/`kid`/`alg` (never `k`). */
export function publicJwkOf(key: Key): JWK {
  if (key.type === 'secret') return { kty: 'oct', kid: key.kid, alg: key.alg, use: 'sig' };
  return key.publicKey().toJWK();
}

/** The row to insert for a freshly generated private key or secret (bound to one algorithm). */
export function sealSigningKey(kek: Kek, key: Key): Omit<NewSigningKey, 'activatesAt'> {
  if (key.alg === undefined || key.type === 'public') {
    throw new TypeError('sealSigningKey: expects a private key or secret bound to one algorithm');
  }
  const plaintext = Buffer.from(JSON.stringify(key.toJWK({ includePrivate: true })), 'utf8');
  try {
    return {
      kid: key.kid,
      alg: key.alg,
      publicJwk: publicJwkOf(key),
      privateKeyCiphertext: kek.seal(plaintext, associatedData(key.kid, key.alg)),
    };
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Decrypts and imports a stored key, bound to the row's `alg` and `kid`.
 * @throws {KeyError} `ERR_KEK_MISMATCH` (wrong `JOT_KEK`) or `ERR_KEY_SEALED_INVALID` (damaged or edited row).
 */
export function openSigningKey(
  kek: Kek,
  record: Pick<SigningKeyRecord, 'kid' | 'alg' | 'privateKeyCiphertext'>,
): Key {
  const { kid } = record;
  if (!isAlgorithm(record.alg)) {
    throw new KeyError('ERR_KEY_SEALED_INVALID', `signing key ${kid}: unsupported alg in the database row`, {
      kid,
    });
  }
  const alg: Algorithm = record.alg;
  let plaintext: Buffer;
  try {
    plaintext = kek.open(record.privateKeyCiphertext, associatedData(kid, alg));
  } catch (err) {
    if (err instanceof KeyError) throw new KeyError(err.code, `signing key ${kid}: ${err.message}`, { kid });
    throw err;
  }
  try {
    const key = importJWK(JSON.parse(plaintext.toString('utf8')), { alg, kid });
    if (key.type === 'public') throw new TypeError('a public key was sealed');
    return key;
  } catch (err) {
    // Never pass the cause on: a JSON or import error could quote the decrypted text.
    const why = isJoseError(err) ? err.code : 'not a private JWK';
    throw new KeyError(
      'ERR_KEY_SEALED_INVALID',
      `signing key ${kid}: the decrypted key is unusable (${why})`,
      { kid },
    );
  } finally {
    plaintext.fill(0);
  }
}
