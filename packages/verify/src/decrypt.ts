/**
 * Encrypted access tokens (nested JWTs) at the resource server: a five-part token is decrypted with this service's
 * private key — after `@jot/jose`'s checks before decryption (size, algorithms, `zip`, `epk` on the curve, …) —
 * and its inner JWS is then verified exactly like an unencrypted token.
 */
import { decryptJWT, importEncryptionKey, type EncryptionKey, type JWK } from '@jot/jose';

import { VERIFIER_DEFAULTS } from './defaults.js';

/** Decryption settings of a verifier. */
export interface DecryptionOptions {
  /** This service's private JWKs (`RSA-OAEP-256` or `ECDH-ES+A256KW`); several during a key rollover. */
  keys: readonly JWK[];
  /** Encrypted tokens longer than this are refused before decoding. @default 16384 */
  maxLength?: number;
  /** Refuse plain signed tokens: only encrypted ones are accepted. @default false */
  required?: boolean;
}

/** Opens tokens: the inner JWS of a JWE, or the token itself. */
export interface TokenOpener {
  open(token: string): Promise<string>;
  readonly required: boolean;
}

/** True for the compact JWE shape (five parts). */
export function isCompactJWE(token: string): boolean {
  let dots = 0;
  for (let i = 0; i < token.length && dots < 5; i++) if (token.charCodeAt(i) === 46) dots++;
  return dots === 4;
}

/** Builds the opener; misuse (a public key, a bad JWK) is a `TypeError` here. */
export function createTokenOpener(options: DecryptionOptions): TokenOpener {
  if (!Array.isArray(options.keys) || options.keys.length === 0) {
    throw new TypeError('decryption.keys must list at least one private JWK');
  }
  const keys: EncryptionKey[] = options.keys.map((jwk) => {
    let key: EncryptionKey;
    try {
      key = importEncryptionKey(jwk);
    } catch (err) {
      throw new TypeError(`decryption.keys: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (key.type !== 'private') throw new TypeError('decryption.keys must be private JWKs (with "d")');
    return key;
  });
  return {
    required: options.required ?? VERIFIER_DEFAULTS.decryption.required,
    open: (token) =>
      isCompactJWE(token)
        ? decryptJWT(token, keys, { maxLength: options.maxLength ?? VERIFIER_DEFAULTS.decryption.maxLength })
        : Promise.resolve(token),
  };
}
