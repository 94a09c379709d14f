/**
 * Keys and claims shared by every library in the benchmark. Keys are generated fresh for each run (RSA 2048, the
 * NIST curves, Ed25519, HMAC secrets as long as the hash) and handed to each library in the form it handles best.
 */
import { createSecretKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';

/** Every algorithm compared, in table order. */
export const ALGS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

export const ISSUER = 'https://auth.example.com';
export const AUDIENCE = 'https://api.example.com';
/** Token lifetime in seconds; long enough that no token expires during a run. */
export const LIFETIME = 3600;

/**
 * The claims a typical access token carries besides iss/aud/iat/exp, which every signer adds from its options.
 * With those the JSON payload is about 300 bytes (the report prints the exact size).
 */
export const CLAIMS = Object.freeze({
  sub: 'user_01J9ZK3M4X7QF2',
  jti: randomUUID(),
  sid: 'sess_8e1f0c6a4b2d',
  roles: ['member', 'billing:read', 'reports:write'],
  scope: 'openid profile orders:read orders:write',
});

const HASH = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

/** Node digest name for an algorithm (`undefined` for EdDSA). */
export function hashOf(alg) {
  return alg === 'EdDSA' ? undefined : HASH[alg.slice(2)];
}

function pair(type, options) {
  const { privateKey, publicKey } = generateKeyPairSync(type, options);
  return {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }),
  };
}

/**
 * Key material per algorithm: `{ secret, secretKey }` for HMAC, `{ privateKey, publicKey, privatePem, publicPem }`
 * (KeyObjects and PEM text) for the rest. One RSA key serves RS* and PS*, as it would in practice.
 */
export function makeKeys(algs) {
  const keys = new Map();
  let rsa;
  const ec = new Map();
  for (const alg of algs) {
    const family = alg.slice(0, 2);
    if (family === 'HS') {
      const secret = randomBytes(Number(alg.slice(2)) / 8);
      keys.set(alg, { secret, secretKey: createSecretKey(secret) });
    } else if (family === 'RS' || family === 'PS') {
      rsa ??= pair('rsa', { modulusLength: 2048 });
      keys.set(alg, rsa);
    } else if (family === 'ES') {
      const curve = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' }[alg];
      if (!ec.has(curve)) ec.set(curve, pair('ec', { namedCurve: curve }));
      keys.set(alg, ec.get(curve));
    } else {
      keys.set(alg, pair('ed25519'));
    }
  }
  return keys;
}
