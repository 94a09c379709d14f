/**
 * Signs access tokens with the key ring's active key (its `kid` in the header, `typ: at+jwt`). One signer is kept,
 * for the active key; a rotation replaces it. RS/PS signatures are made on libuv's thread pool (`SIGN_OFF_LOOP`).
 */
import { ACCESS_TOKEN_TYP, type AccessTokenClaims } from '@jot/contract';
import { createSigner, type JWTSigner } from '@jot/jose';

import type { Counter } from 'prom-client';

import type { KeyManager } from '../keys/types.js';

/**
 * Keys whose signatures are made on libuv's thread pool (`signer.async`): RSA signing takes about a millisecond of
 * CPU, long enough that the event loop gains from handing it to the other cores; ECDSA, EdDSA and HMAC take tens of
 * microseconds, less than the hand-off costs, and stay inline.
 */
export const SIGN_OFF_LOOP = /^(RS|PS)/;

/** Signs `claims`; the signer writes `iss` and `iat` (from `claims.iat`) itself. */
export type AccessTokenSign = (claims: AccessTokenClaims) => Promise<string>;

/** The signing function over the key manager; `issued` counts each signed token. */
export function createAccessTokenSigner(
  keys: KeyManager,
  issuer: string,
  issued?: Pick<Counter, 'inc'>,
): AccessTokenSign {
  const signers = new Map<string, { sign: JWTSigner; offload: boolean }>();

  function signerFor(): { sign: JWTSigner; offload: boolean } {
    const key = keys.activeKey();
    let signer = signers.get(key.kid);
    if (signer === undefined) {
      signer = {
        sign: createSigner(key, { typ: ACCESS_TOKEN_TYP, issuer }),
        offload: SIGN_OFF_LOOP.test(key.alg ?? ''),
      };
      signers.clear();
      signers.set(key.kid, signer);
    }
    return signer;
  }

  return async (claims) => {
    const { iss: _iss, iat, ...payload } = claims;
    const signer = signerFor();
    const at = { currentDate: new Date(iat * 1000) };
    const token = signer.offload ? await signer.sign.async(payload, at) : signer.sign(payload, at);
    issued?.inc();
    return token;
  };
}
