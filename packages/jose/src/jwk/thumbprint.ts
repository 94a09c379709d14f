/** RFC 7638 JWK thumbprints: SHA-2 over the required members in lexicographic order, no whitespace. */
import { createHash } from 'node:crypto';

import { JoseError } from '../errors.js';
import type { JWK } from './types.js';

const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
  oct: ['k', 'kty'],
};

/**
 * The RFC 7638 thumbprint of a JWK, base64url.
 *
 * @example
 * thumbprintOf({ kty: 'EC', crv: 'P-256', x: '…', y: '…' }); // "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
 */
export function thumbprintOf(jwk: JWK, digest: 'sha256' | 'sha384' | 'sha512' = 'sha256'): string {
  const members = Object.hasOwn(REQUIRED, jwk.kty) ? REQUIRED[jwk.kty] : undefined;
  if (members === undefined) {
    throw new JoseError('ERR_KEY_INVALID', 'unsupported JWK "kty" for a thumbprint', { claim: 'kty' });
  }
  const parts: string[] = [];
  for (const name of members) {
    const value = jwk[name];
    if (typeof value !== 'string') {
      throw new JoseError('ERR_KEY_INVALID', `JWK member "${name}" is required for a thumbprint`, {
        claim: name,
      });
    }
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  }
  return createHash(digest)
    .update(`{${parts.join(',')}}`)
    .digest('base64url');
}
