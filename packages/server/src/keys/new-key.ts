/**
 * A fresh signing key for the ring. Its kid is its RFC 7638 thumbprint (43 base64url characters), and base64url
 * has `-` among its letters: a kid starting with one reads as an option to a command line (`jot keys withdraw
 * -x3f…` is `-x` and more to most parsers). Such a key is drawn again, so no kid the server creates starts with `-`;
 * the kid keeps its length, alphabet and meaning (the key's thumbprint), and loses under 0.03 bit of its 256.
 */
import { generateKeyPair, generateSecret, type Algorithm, type Key } from '@jot/jose';

/** Makes a key for `alg`; the default draws a key pair or an HMAC secret. */
export type KeyGenerator = (alg: Algorithm) => Key;

const generate: KeyGenerator = (alg) =>
  alg.startsWith('HS') ? generateSecret(alg as 'HS256' | 'HS384' | 'HS512') : generateKeyPair(alg);

/**
 * Draws after this many kids in a row starting with `-` (a chance of 64^-64 with a working random source) are
 * taken for a broken generator rather than bad luck.
 */
const MAX_DRAWS = 64;

/** Whether `kid` could be read as a command-line option. */
export function kidLooksLikeOption(kid: string): boolean {
  return kid.startsWith('-');
}

/** A new key for `alg` whose kid does not start with `-` (`generator` is for tests). */
export function newSigningKey(alg: Algorithm, generator: KeyGenerator = generate): Key {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const key = generator(alg);
    if (!kidLooksLikeOption(key.kid)) return key;
  }
  throw new Error(
    `signing key generation: ${MAX_DRAWS} kids in a row started with '-'; the generator is broken`,
  );
}
