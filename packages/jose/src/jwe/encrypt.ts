/**
 * Nested JWTs (RFC 7519 §5.2, §11.2): a signed JWT encrypted to its audience's key, with `cty: "JWT"`, one of the
 * two accepted key-management algorithms and `A256GCM`. The JWE layer is the `jose` package's.
 */
import { createPublicKey } from 'node:crypto';

import type { CompactJWEHeaderParameters } from 'jose';

import { JWE_CONTENT_ENCRYPTION, type EncryptionKey } from './encryption-key.js';
import { loadJose } from './load-jose.js';

/**
 * Encrypts a compact JWS (normally a signed JWT) to `recipient`. The header is ours: `alg`, `enc`, `cty`, `kid`
 * and, when given, `typ` — no `zip`, nothing a caller can add.
 *
 * @example
 * const jwe = await encryptJWT(signedAccessToken, importEncryptionKey(apiPublicJwk), { typ: 'at+jwt' });
 */
export async function encryptJWT(
  jws: string,
  recipient: EncryptionKey,
  options: { typ?: string } = {},
): Promise<string> {
  if (!/^[\w-]+\.[\w-]*\.[\w-]+$/.test(jws))
    throw new TypeError('encryptJWT: the plaintext must be a compact JWS');
  const header: CompactJWEHeaderParameters = {
    alg: recipient.alg,
    enc: JWE_CONTENT_ENCRYPTION,
    cty: 'JWT',
  };
  if (recipient.publicJwk.kid !== undefined) header.kid = recipient.publicJwk.kid;
  if (options.typ !== undefined) header.typ = options.typ;
  const publicKey = recipient.type === 'private' ? createPublicKey(recipient.keyObject) : recipient.keyObject;
  const { CompactEncrypt } = await loadJose();
  return new CompactEncrypt(new TextEncoder().encode(jws)).setProtectedHeader(header).encrypt(publicKey);
}
