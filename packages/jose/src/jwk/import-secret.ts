/** HMAC secret import. A secret is random bytes (≥ 256 bits), never a password, a PEM or a JWK's JSON text. */
import { Buffer } from 'node:buffer';
import { createSecretKey } from 'node:crypto';

import { decodeBase64url } from '../lib/base64url.js';
import { JoseError } from '../errors.js';
import { Key, type KeyOptions } from './key.js';

/** How a string secret is spelled. */
export type SecretEncoding = 'base64url' | 'hex' | 'utf8';

/**
 * Imports an HMAC secret. Bytes are taken as they are; a string is decoded with `encoding` (default `base64url`).
 * Secrets shorter than the algorithm's hash (and never under 256 bits) are refused, as is text that looks like a
 * PEM or a JWK: using a public key's text as an HMAC secret is the algorithm-confusion attack (fast-jwt
 * CVE-2023-48223).
 *
 * @example
 * const key = importSecret(crypto.randomBytes(32)); // HS256
 * const fromEnv = importSecret(process.env.JWT_SECRET!, { encoding: 'base64url', alg: 'HS256' });
 */
export function importSecret(
  secret: Uint8Array | string,
  options: KeyOptions & { encoding?: SecretEncoding } = {},
): Key {
  let bytes: Buffer | undefined;
  if (typeof secret === 'string') {
    if (/-----BEGIN|^\s*[{[]|^\s*ssh-|^\s*ecdsa-/.test(secret)) {
      throw new JoseError(
        'ERR_KEY_INVALID',
        'this text looks like a PEM, JWK or SSH key, not an HMAC secret',
        {
          reason: 'not_secret',
        },
      );
    }
    const encoding = options.encoding ?? 'base64url';
    if (encoding === 'base64url') bytes = decodeBase64url(secret);
    else if (encoding === 'hex')
      bytes = /^(?:[0-9a-fA-F]{2})*$/.test(secret) ? Buffer.from(secret, 'hex') : undefined;
    else bytes = Buffer.from(secret, 'utf8');
    if (bytes === undefined) {
      throw new JoseError('ERR_KEY_INVALID', `the secret is not valid ${encoding}`, { reason: 'encoding' });
    }
  } else if (secret instanceof Uint8Array) {
    bytes = Buffer.from(secret);
  } else {
    throw new TypeError('importSecret: the secret must be a Uint8Array or a string');
  }
  if (bytes.length === 0)
    throw new JoseError('ERR_KEY_INVALID', 'the secret is empty', { reason: 'too_short' });
  return new Key(createSecretKey(bytes), options);
}
