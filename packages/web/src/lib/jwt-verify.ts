/**
 * Verifies a token's signature in the browser with WebCrypto, against a JWK (from this server's JWKS or pasted),
 * a JWKS, or a PEM public key. The algorithm is never chosen by the token alone: a JWK's own `alg` must equal the
 * header's, and the key type must fit the algorithm's family (importKey fails otherwise); a JWK without `alg`
 * leaves the choice within the family to the token, which is reported. The algorithm table is a `Map`, so a header
 * `alg` such as "constructor" or "__proto__" finds nothing. RSA keys under 2048 bits are reported too. Only the
 * signature is checked here; the claims findings come from `warningsFor`.
 */
import { base64urlToBytes, type DecodedJwt } from './jwt-decode.js';

/** The outcome of a verification. */
export interface VerifyResult {
  valid: boolean;
  alg?: string;
  kid?: string;
  /** Why the token could not be checked or did not verify. */
  reason?: string;
  /** Weaknesses of the key or of the way the algorithm was chosen, whatever the outcome. */
  warnings?: string[];
}

/** RSA moduli shorter than this are breakable in practice (NIST SP 800-131A, RFC 7518 §3.3). */
export const MIN_RSA_BITS = 2048;

type Params = {
  import: RsaHashedImportParams | EcKeyImportParams | HmacImportParams | Algorithm;
  verify: Algorithm | EcdsaParams | RsaPssParams;
  kty: string;
};

/** The supported algorithms. A `Map`: a plain object would answer `ALGORITHMS['constructor']` from its prototype. */
const ALGORITHMS = new Map<string, Params>();
for (const bits of [256, 384, 512] as const) {
  const hash = `SHA-${bits}`;
  ALGORITHMS.set(`RS${bits}`, {
    kty: 'RSA',
    import: { name: 'RSASSA-PKCS1-v1_5', hash },
    verify: { name: 'RSASSA-PKCS1-v1_5' },
  });
  ALGORITHMS.set(`PS${bits}`, {
    kty: 'RSA',
    import: { name: 'RSA-PSS', hash },
    verify: { name: 'RSA-PSS', saltLength: bits / 8 },
  });
  ALGORITHMS.set(`HS${bits}`, { kty: 'oct', import: { name: 'HMAC', hash }, verify: { name: 'HMAC' } });
}
const CURVES = {
  ES256: ['P-256', 'SHA-256'],
  ES384: ['P-384', 'SHA-384'],
  ES512: ['P-521', 'SHA-512'],
} as const;
for (const [alg, [namedCurve, hash]] of Object.entries(CURVES)) {
  ALGORITHMS.set(alg, {
    kty: 'EC',
    import: { name: 'ECDSA', namedCurve },
    verify: { name: 'ECDSA', hash },
  });
}
const EDDSA: Params = { kty: 'OKP', import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } };
ALGORITHMS.set('EdDSA', EDDSA);
ALGORITHMS.set('Ed25519', EDDSA);

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
  const params = ALGORITHMS.get(alg);
  return params === undefined ? { reason: `unsupported algorithm "${alg}"` } : { alg, params };
}

/** A warning when `key` is an RSA key shorter than {@link MIN_RSA_BITS}. */
function keyStrength(key: CryptoKey): string[] {
  const { modulusLength } = key.algorithm as Partial<RsaHashedKeyAlgorithm>;
  return typeof modulusLength === 'number' && modulusLength < MIN_RSA_BITS
    ? [`the RSA key is only ${modulusLength} bits; use at least ${MIN_RSA_BITS}`]
    : [];
}

/** The result, with `warnings` only when there are some. */
function withWarnings(result: VerifyResult, warnings: string[]): VerifyResult {
  return warnings.length === 0 ? result : { ...result, warnings };
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
  const warnings =
    jwk.alg === undefined
      ? [
          `the key has no "alg", so the token chose ${alg} within the ${params.kty} family; give the key an "alg"`,
        ]
      : [];
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, key_ops: _ops, ...publicPart } = jwk;
  try {
    const key = await crypto.subtle.importKey(
      'jwk',
      params.kty === 'oct' ? jwk : publicPart,
      params.import,
      false,
      ['verify'],
    );
    warnings.push(...keyStrength(key));
    return withWarnings({ valid: await check(jwt, key, params), alg, kid: jwk.kid }, warnings);
  } catch (err) {
    return withWarnings(
      {
        valid: false,
        alg,
        kid: jwk.kid,
        reason: `the key could not be used: ${err instanceof Error ? err.message : String(err)}`,
      },
      warnings,
    );
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
    return withWarnings({ valid: await check(jwt, key, params), alg }, keyStrength(key));
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
