/**
 * Verifies a token's signature in the browser with WebCrypto, against a JWK (from this server's JWKS or pasted),
 * a JWKS, or a PEM public key. The algorithm is never chosen by the token alone: a JWK's own `alg` must equal the
 * header's, and the key type must fit the algorithm's family (importKey fails otherwise). Only the signature is
 * checked here; the claims findings come from `warningsFor`.
 */
import { base64urlToBytes, type DecodedJwt } from './jwt-decode.js';

/** The outcome of a verification. */
export interface VerifyResult {
  valid: boolean;
  alg?: string;
  kid?: string;
  /** Why the token could not be checked or did not verify. */
  reason?: string;
}

type Params = {
  import: RsaHashedImportParams | EcKeyImportParams | HmacImportParams | Algorithm;
  verify: Algorithm | EcdsaParams | RsaPssParams;
  kty: string;
};

const ALGORITHMS: Record<string, Params> = {};
for (const bits of [256, 384, 512] as const) {
  const hash = `SHA-${bits}`;
  ALGORITHMS[`RS${bits}`] = {
    kty: 'RSA',
    import: { name: 'RSASSA-PKCS1-v1_5', hash },
    verify: { name: 'RSASSA-PKCS1-v1_5' },
  };
  ALGORITHMS[`PS${bits}`] = {
    kty: 'RSA',
    import: { name: 'RSA-PSS', hash },
    verify: { name: 'RSA-PSS', saltLength: bits / 8 },
  };
  ALGORITHMS[`HS${bits}`] = { kty: 'oct', import: { name: 'HMAC', hash }, verify: { name: 'HMAC' } };
}
const CURVES = {
  ES256: ['P-256', 'SHA-256'],
  ES384: ['P-384', 'SHA-384'],
  ES512: ['P-521', 'SHA-512'],
} as const;
for (const [alg, [namedCurve, hash]] of Object.entries(CURVES)) {
  ALGORITHMS[alg] = {
    kty: 'EC',
    import: { name: 'ECDSA', namedCurve },
    verify: { name: 'ECDSA', hash },
  };
}
ALGORITHMS.EdDSA = { kty: 'OKP', import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } };
ALGORITHMS.Ed25519 = ALGORITHMS.EdDSA;

/** A public JWK as found in a JWKS. */
export type Jwk = JsonWebKey & { kid?: string; alg?: string };

async function check(jwt: DecodedJwt, key: CryptoKey, params: Params): Promise<boolean> {
  const data = new TextEncoder().encode(jwt.signingInput);
  return crypto.subtle.verify(params.verify, key, jwt.signature as Uint8Array<ArrayBuffer>, data);
}

function algOf(jwt: DecodedJwt): { alg: string; params: Params } | { reason: string } {
  const alg = jwt.header.alg;
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none')
    return { reason: 'the token is unsigned (alg: none) — nothing to verify' };
  const params = ALGORITHMS[alg];
  return params === undefined ? { reason: `unsupported algorithm "${alg}"` } : { alg, params };
}

/** Verifies `jwt` with one JWK. */
export async function verifyWithJwk(jwt: DecodedJwt, jwk: Jwk): Promise<VerifyResult> {
  const chosen = algOf(jwt);
  if ('reason' in chosen) return { valid: false, reason: chosen.reason };
  const { alg, params } = chosen;
  if (jwk.alg !== undefined && jwk.alg !== alg)
    return { valid: false, alg, kid: jwk.kid, reason: `the key is for ${jwk.alg}, the token says ${alg}` };
  if (jwk.kty !== params.kty)
    return { valid: false, alg, kid: jwk.kid, reason: `a ${jwk.kty ?? '?'} key cannot verify ${alg}` };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, key_ops: _ops, ...publicPart } = jwk;
  try {
    const key = await crypto.subtle.importKey(
      'jwk',
      params.kty === 'oct' ? jwk : publicPart,
      params.import,
      false,
      ['verify'],
    );
    return { valid: await check(jwt, key, params), alg, kid: jwk.kid };
  } catch (err) {
    return {
      valid: false,
      alg,
      kid: jwk.kid,
      reason: `the key could not be used: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

/** Verifies `jwt` with the key of a JWKS whose `kid` matches the header's (or the only key when there is no kid). */
export async function verifyWithJwks(jwt: DecodedJwt, jwks: { keys?: unknown }): Promise<VerifyResult> {
  const keys = Array.isArray(jwks.keys) ? (jwks.keys as Jwk[]) : [];
  const kid = jwt.header.kid;
  const candidates =
    typeof kid === 'string' ? keys.filter((k) => k.kid === kid) : keys.length === 1 ? keys : [];
  const [key] = candidates;
  if (key === undefined)
    return {
      valid: false,
      reason:
        typeof kid === 'string'
          ? `no key with kid "${kid}" in the key set`
          : 'the token has no kid and the key set has several keys',
    };
  return verifyWithJwk(jwt, key);
}

/** Verifies with a PEM `PUBLIC KEY` (SPKI); the token's algorithm must fit the key's type or import fails. */
export async function verifyWithPem(jwt: DecodedJwt, pem: string): Promise<VerifyResult> {
  const chosen = algOf(jwt);
  if ('reason' in chosen) return { valid: false, reason: chosen.reason };
  const { alg, params } = chosen;
  const match = /-----BEGIN PUBLIC KEY-----([\s\S]+?)-----END PUBLIC KEY-----/.exec(pem);
  if (match === null)
    return { valid: false, alg, reason: 'paste a PEM "PUBLIC KEY" (SPKI), a JWK or a JWKS' };
  if (params.kty === 'oct')
    return {
      valid: false,
      alg,
      reason: `${alg} needs a shared secret (paste it as an "oct" JWK), not a public key`,
    };
  try {
    const der = base64urlToBytes(
      match[1]!.replace(/\s+/g, '').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
    );
    const key = await crypto.subtle.importKey('spki', der as Uint8Array<ArrayBuffer>, params.import, false, [
      'verify',
    ]);
    return { valid: await check(jwt, key, params), alg };
  } catch (err) {
    return {
      valid: false,
      alg,
      reason: `the key does not fit ${alg}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

/** Verifies with pasted key text: a JWK, a JWKS (`{"keys": […]}`) or a PEM public key. */
export async function verifyWithPasted(jwt: DecodedJwt, text: string): Promise<VerifyResult> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return { valid: false, reason: 'the pasted key is not valid JSON' };
    }
    if (typeof parsed !== 'object' || parsed === null)
      return { valid: false, reason: 'the pasted key is not a JSON object' };
    return 'keys' in parsed ? verifyWithJwks(jwt, parsed) : verifyWithJwk(jwt, parsed);
  }
  return verifyWithPem(jwt, trimmed);
}
