/** HMAC secret import. A secret is random bytes (≥ 256 bits), never a password, a PEM or a JWK's JSON text. */
import { Buffer } from 'node:buffer';
import { createPrivateKey, createPublicKey, createSecretKey, X509Certificate } from 'node:crypto';

import { decodeBase64url } from '../lib/base64url.js';
import { JoseError } from '../errors.js';
import { Key, type KeyOptions } from './key.js';

/** How a string secret is spelled. */
export type SecretEncoding = 'base64url' | 'hex' | 'utf8';

const KEY_TEXT = /-----BEGIN|^\s*[{[]|^\s*ssh-|^\s*ecdsa-/;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as text in each encoding a key file may come in (UTF-8 when valid, Latin-1, UTF-16). */
function asTexts(bytes: Buffer): string[] {
  const texts = [bytes.toString('latin1'), bytes.toString('utf16le')];
  try {
    texts.unshift(fatalUtf8.decode(bytes));
  } catch {
    // not UTF-8: a PEM with one stray byte is still a PEM, found in the Latin-1 reading
  }
  return texts;
}

/** Whether `text` (a BOM allowed) is JSON: random bytes may begin with "{", so only a whole parse counts. */
function isJsonText(text: string): boolean {
  if (!/^\s*[{[]/.test(text)) return false;
  try {
    JSON.parse(text.replace(/^\uFEFF/, ''));
    return true;
  } catch {
    return false; // not JSON: just random bytes that start with a bracket
  }
}

/** The DER readings of a key or certificate: SPKI, PKCS #8, PKCS #1 (public and private), SEC 1, X.509. */
const DER_READERS: ReadonlyArray<(bytes: Buffer) => unknown> = [
  (key) => createPublicKey({ key, format: 'der', type: 'spki' }),
  (key) => createPublicKey({ key, format: 'der', type: 'pkcs1' }),
  (key) => createPrivateKey({ key, format: 'der', type: 'pkcs8' }),
  (key) => createPrivateKey({ key, format: 'der', type: 'pkcs1' }),
  (key) => createPrivateKey({ key, format: 'der', type: 'sec1' }),
  (key) => new X509Certificate(key),
];

/**
 * True when bytes are the text of a PEM, JWK or SSH key (in UTF-8, Latin-1 or UTF-16, a BOM allowed), or a DER
 * key or certificate in any of the usual forms.
 */
function looksLikeKeyBytes(bytes: Buffer): boolean {
  for (const text of asTexts(bytes)) {
    if (/-----BEGIN|^\s*ssh-[a-z0-9]+ |^\s*ecdsa-sha2-/.test(text) || isJsonText(text)) return true;
  }
  for (const read of DER_READERS) {
    try {
      read(bytes);
      return true;
    } catch {
      // not this DER form
    }
  }
  return false;
}

function notSecret(): JoseError {
  return new JoseError('ERR_KEY_INVALID', 'this looks like a PEM, JWK, DER or SSH key, not an HMAC secret', {
    reason: 'not_secret',
  });
}

/**
 * Imports an HMAC secret. Bytes are taken as they are; a string is decoded with `encoding` (default `base64url`).
 * Secrets shorter than the algorithm's hash (and never under 256 bits) are refused, as is a string or byte string
 * that holds a PEM, a JWK or a DER key: using a public key's text as an HMAC secret is the algorithm-confusion
 * attack (fast-jwt CVE-2023-48223).
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
    if (KEY_TEXT.test(secret)) throw notSecret();
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
  if (looksLikeKeyBytes(bytes)) throw notSecret();
  return new Key(createSecretKey(bytes), options);
}
