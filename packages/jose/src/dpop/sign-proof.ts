/**
 * DPoP proof creation (RFC 9449 §4.2) for Node callers: services that hold their own key pair, the CLI and tests.
 * Browsers make proofs with WebCrypto in `@jot/client`.
 */
import { randomBytes } from 'node:crypto';

import type { Algorithm } from '../lib/algorithms.js';
import type { Key } from '../jwk/key.js';
import { signJWS } from '../jws/sign.js';
import { accessTokenHash, normalizeHtu } from './htu.js';

/** What a proof says about its request. */
export interface DPoPProofInput {
  /** The HTTP method, e.g. `POST`. */
  htm: string;
  /** The request URL; query and fragment are dropped. */
  htu: string;
  /** The access token sent with the request (sets `ath`). */
  accessToken?: string;
  /** The latest `DPoP-Nonce` the server sent. */
  nonce?: string;
  /** Epoch seconds. @default now */
  iat?: number;
  /** @default 16 random bytes, base64url */
  jti?: string;
  /** When the private key is not bound to one algorithm. */
  alg?: Algorithm;
}

/**
 * Signs a DPoP proof with `privateKey`; the public half goes into the `jwk` header.
 *
 * @example
 * const key = generateKeyPair('ES256');
 * const proof = createDPoPProof(key, { htm: 'GET', htu: 'https://api.example.com/orders', accessToken });
 * await fetch(url, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof } });
 */
export function createDPoPProof(privateKey: Key, input: DPoPProofInput): string {
  if (privateKey.type !== 'private') throw new TypeError('createDPoPProof: a private key is required');
  const htu = normalizeHtu(input.htu);
  if (htu === undefined) throw new TypeError('createDPoPProof: htu must be an absolute http(s) URL');
  const { kid: _kid, use: _use, alg: _alg, ...jwk } = privateKey.publicKey().toJWK();
  const payload: Record<string, unknown> = {
    jti: input.jti ?? randomBytes(16).toString('base64url'),
    htm: input.htm,
    htu,
    iat: input.iat ?? Math.floor(Date.now() / 1000),
  };
  if (input.accessToken !== undefined) payload.ath = accessTokenHash(input.accessToken);
  if (input.nonce !== undefined) payload.nonce = input.nonce;
  return signJWS(JSON.stringify(payload), privateKey, {
    alg: input.alg,
    typ: 'dpop+jwt',
    kid: false,
    header: { jwk },
  });
}
