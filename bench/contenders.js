/**
 * The libraries compared, each prepared once per algorithm in its fastest documented form, with the same claims to
 * sign and the same checks when verifying (allow-listed alg, signature, exp, iss, aud). `sign(ctx)` and
 * `verify(ctx)` return the function to time, or `null` when the library does not support the algorithm.
 */
import {
  constants,
  createHmac,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
} from 'node:crypto';
import { webcrypto } from 'node:crypto';

import { createSigner as fastSigner, createVerifier as fastVerifier } from 'fast-jwt';
import * as jose from 'jose';
import jsonwebtoken from 'jsonwebtoken';

import { AUDIENCE, CLAIMS, ISSUER, LIFETIME, hashOf } from './fixtures.js';

const isHmac = (alg) => alg.startsWith('HS');

/** The `crypto.sign`/`crypto.verify` key argument: P1363 for ECDSA, PSS with salt = digest length. */
function nodeKey(alg, keyObject) {
  if (alg.startsWith('PS')) {
    return {
      key: keyObject,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    };
  }
  if (alg.startsWith('ES')) return { key: keyObject, dsaEncoding: 'ieee-p1363' };
  return keyObject;
}

/** Jot: `createSigner` / `createVerifier`, prepared once (the intended hot path). */
const jot = {
  name: 'Jot',
  sign: ({ jotKeys, jotLib }) => {
    const signer = jotLib.createSigner(jotKeys.sign, {
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: LIFETIME,
    });
    return () => signer(CLAIMS);
  },
  verify: ({ alg, jotKeys, jotLib, token }) => {
    const verifier = jotLib.createVerifier(jotKeys.verify, {
      algorithms: [alg],
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    return () => verifier(token);
  },
};

/** node:crypto alone: just the signature operation over the signing input bytes, KeyObjects created once. */
const raw = {
  name: 'node:crypto',
  sign: ({ alg, material, data }) => {
    const hash = hashOf(alg);
    if (isHmac(alg)) return () => createHmac(hash, material.secretKey).update(data).digest();
    const key = nodeKey(alg, material.privateKey);
    return () => cryptoSign(hash ?? null, data, key);
  },
  verify: ({ alg, material, data, signature }) => {
    const hash = hashOf(alg);
    if (isHmac(alg)) {
      return () => timingSafeEqual(createHmac(hash, material.secretKey).update(data).digest(), signature);
    }
    const key = nodeKey(alg, material.publicKey);
    return () => cryptoVerify(hash ?? null, data, key, signature);
  },
};

/**
 * The floor: the least a JWT verifier on node:crypto and `JSON.parse` must do besides the signature operation, with
 * no check a JWT library adds for safety — cut the token at its dots, decode the signature and then the payload from
 * base64url into one reused buffer (Node's lenient decoder, no allocation: as Jot does), `JSON.parse` the payload,
 * compare `iss`, `aud` and `exp` with `===` and `>`. Its overhead above raw node:crypto is what a verify-overhead
 * budget has to cover before any of RFC 8725's checks.
 */
const floor = {
  name: 'floor',
  sign: null,
  verify: ({ alg, material, token }) => {
    const hash = hashOf(alg);
    const hmac = isHmac(alg);
    const key = hmac ? material.secretKey : nodeKey(alg, material.publicKey);
    const bytes = Buffer.allocUnsafeSlow(token.length);
    return () => {
      const first = token.indexOf('.');
      const second = token.indexOf('.', first + 1);
      const input = token.slice(0, second);
      const length = bytes.write(token.slice(second + 1), 0, 'base64url');
      let ok;
      if (hmac) {
        const tag = createHmac(hash, key).update(input, 'latin1').digest();
        ok = tag.length === length && timingSafeEqual(tag, bytes.subarray(0, length));
      } else {
        bytes.write(input, length, 'latin1');
        const data = bytes.subarray(length, length + input.length);
        ok = cryptoVerify(hash ?? null, data, key, bytes.subarray(0, length));
      }
      if (!ok) throw new Error('signature verification failed');
      const size = bytes.write(token.slice(first + 1, second), 0, 'base64url');
      const claims = JSON.parse(bytes.toString('utf8', 0, size));
      if (claims.iss !== ISSUER || claims.aud !== AUDIENCE || !(claims.exp > Date.now() / 1000))
        throw new Error('claims refused');
      return claims;
    };
  },
};

function fastKey(alg, material, which) {
  return isHmac(alg) ? material.secret : which === 'sign' ? material.privatePem : material.publicPem;
}

/** fast-jwt: createSigner / createVerifier, keys as PEM or secret bytes (converted to KeyObjects once inside). */
const fastJwt = {
  name: 'fast-jwt',
  sign: ({ alg, material, kid }) => {
    const signer = fastSigner({
      key: fastKey(alg, material, 'sign'),
      algorithm: alg,
      iss: ISSUER,
      aud: AUDIENCE,
      expiresIn: LIFETIME * 1000,
      kid,
    });
    return () => signer(CLAIMS);
  },
  verify: ({ alg, material, token }) => {
    const verifier = fastVerifier({
      key: fastKey(alg, material, 'verify'),
      algorithms: [alg],
      allowedIss: ISSUER,
      allowedAud: AUDIENCE,
    });
    return () => verifier(token);
  },
};

/** fast-jwt with its verification cache on: the same token repeated is a cache hit (a Map lookup, no crypto). */
const fastJwtCached = {
  name: 'fast-jwt (cache)',
  sign: null,
  verify: ({ alg, material, token }) => {
    const verifier = fastVerifier({
      key: fastKey(alg, material, 'verify'),
      algorithms: [alg],
      allowedIss: ISSUER,
      allowedAud: AUDIENCE,
      cache: true,
    });
    return () => verifier(token);
  },
};

/** jsonwebtoken: KeyObjects passed in (its fastest form; a PEM string would be parsed on every call). */
const jwt = {
  name: 'jsonwebtoken',
  sign: ({ alg, material, kid }) => {
    if (alg === 'EdDSA') return null;
    const key = isHmac(alg) ? material.secretKey : material.privateKey;
    const options = { algorithm: alg, issuer: ISSUER, audience: AUDIENCE, expiresIn: LIFETIME, keyid: kid };
    return () => jsonwebtoken.sign(CLAIMS, key, options);
  },
  verify: ({ alg, material, token }) => {
    if (alg === 'EdDSA') return null;
    const key = isHmac(alg) ? material.secretKey : material.publicKey;
    const options = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE };
    return () => jsonwebtoken.verify(token, key, options);
  },
};

async function joseKeys(alg, material) {
  if (isHmac(alg)) {
    const key = await webcrypto.subtle.importKey(
      'raw',
      material.secret,
      { name: 'HMAC', hash: `SHA-${alg.slice(2)}` },
      false,
      ['sign', 'verify'],
    );
    return { sign: key, verify: key };
  }
  return {
    sign: await jose.importPKCS8(material.privatePem, alg),
    verify: await jose.importSPKI(material.publicPem, alg),
  };
}

/** jose (panva): keys imported once as CryptoKey; async (WebCrypto). */
const joseLib = {
  name: 'jose',
  async: true,
  sign: async ({ alg, material, kid }) => {
    const { sign: key } = await joseKeys(alg, material);
    return () =>
      new jose.SignJWT({ ...CLAIMS })
        .setProtectedHeader({ alg, typ: 'JWT', kid })
        .setIssuedAt()
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime(`${LIFETIME}s`)
        .sign(key);
  },
  verify: async ({ alg, material, token }) => {
    const { verify: key } = await joseKeys(alg, material);
    const options = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE };
    return () => jose.jwtVerify(token, key, options);
  },
};

/** Verify columns, in table order. */
export const VERIFIERS = [jot, raw, floor, fastJwt, fastJwtCached, jwt, joseLib];
/** Sign columns, in table order. */
export const SIGNERS = [jot, raw, fastJwt, jwt, joseLib];
