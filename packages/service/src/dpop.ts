/**
 * DPoP (RFC 9449) for a service: a non-extractable ES256 key made with WebCrypto (the private half can sign but never
 * be exported, not even by this process), a proof per request — `htm`, `htu` (no query or fragment), `iat`, a random
 * `jti`, `ath` when an access token goes along — and the latest `DPoP-Nonce` each origin sent (RFC 9449 §8–9): a
 * `use_dpop_nonce` answer (400 at the token endpoint, 401 at a resource server) is retried once with it.
 */
import { createHash, generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';

import { asksForDPoPNonce, HEADERS } from '@jot/contract';

/** Proofs for one key. */
export interface ServiceDPoP {
  /** A proof for `method` `url`, bound to `accessToken` when given, with the origin's latest nonce. */
  proof(method: string, url: string, accessToken?: string): Promise<string>;
  /** Remembers the `DPoP-Nonce` of a response (any response may carry a new one, §8.2). */
  remember(url: string, response: Response): void;
  /** Whether a response asks for a (new) nonce: 400 or 401 `use_dpop_nonce` with a `DPoP-Nonce` header. */
  asksForNonce(response: Response): Promise<boolean>;
}

const subtle = webcrypto.subtle;

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  return Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('base64url');
}

/**
 * A new non-extractable ES256 key pair. Generated encoded and imported, so the keys do not share their key data (and
 * its mutex) with Node's generation job, whose destructor locks it: a garbage collection during the public key's
 * JWK export (every proof) could otherwise deadlock the thread (see @jot/jose `generateKeyPair`).
 */
export async function generateDPoPKey(): Promise<CryptoKeyPair> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  return {
    privateKey: await subtle.importKey('pkcs8', privateKey, algorithm, false, ['sign']),
    publicKey: await subtle.importKey('spki', publicKey, algorithm, true, ['verify']),
  };
}

/** The proof's JOSE header (base64url): ES256 with the public key; the pair must be ECDSA P-256. */
async function encodedHeader({ publicKey, privateKey }: CryptoKeyPair): Promise<string> {
  if (
    privateKey.algorithm.name !== 'ECDSA' ||
    (privateKey.algorithm as EcKeyAlgorithm).namedCurve !== 'P-256'
  ) {
    throw new TypeError('service: the DPoP key must be an ECDSA P-256 key pair (ES256)');
  }
  const { kty, crv, x, y } = await subtle.exportKey('jwk', publicKey);
  return base64url(Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } })));
}

/**
 * A proof's claims (RFC 9449 §4.2) at `now` (epoch ms): `ath` binds the access token, `nonce` is the origin's last
 * one.
 */
function proofClaims(
  now: number,
  method: string,
  target: URL,
  accessToken: string | undefined,
  nonce: string | undefined,
): Record<string, unknown> {
  const claims: Record<string, unknown> = {
    jti: randomBytes(16).toString('base64url'),
    htm: method.toUpperCase(),
    htu: `${target.origin}${target.pathname}`,
    iat: Math.floor(now / 1000),
  };
  if (accessToken !== undefined) claims.ath = createHash('sha256').update(accessToken).digest('base64url');
  if (nonce !== undefined) claims.nonce = nonce;
  return claims;
}

/** The proof maker over `keys` (made on first use when not given); `clock` (epoch ms) sets each proof's `iat`. */
export function createServiceDPoP(
  keys?: CryptoKeyPair | Promise<CryptoKeyPair>,
  clock: () => number = Date.now,
): ServiceDPoP {
  let pair: Promise<CryptoKeyPair> | undefined = keys === undefined ? undefined : Promise.resolve(keys);
  let header: Promise<string> | undefined;
  const nonces = new Map<string, string>();

  function keyPair(): Promise<CryptoKeyPair> {
    pair ??= generateDPoPKey();
    return pair;
  }

  return {
    async proof(method, url, accessToken) {
      header ??= keyPair()
        .then(encodedHeader)
        .catch((err: unknown) => {
          header = undefined;
          throw err;
        });
      const target = new URL(url);
      const claims = proofClaims(clock(), method, target, accessToken, nonces.get(target.origin));
      const input = `${await header}.${base64url(Buffer.from(JSON.stringify(claims)))}`;
      // WebCrypto's ECDSA signature is r‖s: exactly JWS's ES256 form (RFC 7518 §3.4).
      const signature = await subtle.sign(
        { name: 'ECDSA', hash: 'SHA-256' },
        (await keyPair()).privateKey,
        Buffer.from(input),
      );
      return `${input}.${base64url(signature)}`;
    },
    remember(url, response) {
      const nonce = response.headers.get(HEADERS.dpopNonce);
      if (nonce !== null && nonce.length <= 512) nonces.set(new URL(url).origin, nonce);
    },
    asksForNonce: asksForDPoPNonce,
  };
}
