/**
 * `@jot/jose`: strict, fast JWS/JWT/JWK on `node:crypto`. Every export is re-exported from the file that owns it.
 */
export {
  JoseError,
  isJoseError,
  JOSE_ERROR_CODES,
  type JoseErrorCode,
  type JoseErrorDetails,
} from './errors.js';
export {
  ALGORITHMS,
  SUPPORTED_ALGORITHMS,
  isAlgorithm,
  type Algorithm,
  type AlgorithmSpec,
  type KeyFamily,
} from './lib/algorithms.js';
export { encodeBase64url, decodeBase64url, isCanonicalBase64url } from './lib/base64url.js';
export { parseDuration, parseDurationMs, type Duration } from './lib/duration.js';
export { Key, MIN_RSA_BITS, type KeyOptions, type KeyType } from './jwk/key.js';
export { importJWK } from './jwk/import-jwk.js';
export { importPEM } from './jwk/import-pem.js';
export { importSecret, type SecretEncoding } from './jwk/import-secret.js';
export { generateKeyPair, generateSecret, type GenerateKeyPairOptions } from './jwk/generate.js';
export { thumbprintOf } from './jwk/thumbprint.js';
export type { JWK, JWKS } from './jwk/types.js';
export { KeySet, type KeyResolver } from './jwks/key-set.js';
export type { JWSHeader } from './jws/types.js';
export { DEFAULT_MAX_TOKEN_LENGTH, MAX_KID_LENGTH } from './jws/segments.js';
export { signJWS, signEncoded, type SignJWSOptions } from './jws/sign.js';
export {
  createJWSVerifier,
  verifyJWS,
  type JWSVerifier,
  type VerifyJWSOptions,
  type VerifiedJWS,
} from './jws/verify.js';
export type { JWTPayload } from './jwt/types.js';
export type { ClaimOptions } from './jwt/claims.js';
export { createSigner, sign, type SignOptions, type JWTSigner } from './jwt/sign.js';
export {
  createVerifier,
  verify,
  type VerifyOptions,
  type VerifiedJWT,
  type JWTVerifier,
} from './jwt/verify.js';
export { decodeUnverified, type UnverifiedJWT } from './jwt/decode.js';
export { normalizeHtu, accessTokenHash } from './dpop/htu.js';
export { createDPoPProof, type DPoPProofInput } from './dpop/sign-proof.js';
export {
  verifyDPoPProof,
  DPOP_ALGORITHMS,
  MAX_DPOP_PROOF_LENGTH,
  type VerifyDPoPProofOptions,
  type VerifiedDPoPProof,
} from './dpop/verify-proof.js';
export { createDPoPNonces, type DPoPNonces } from './dpop/nonce.js';
export {
  MEMORY_REPLAY_MAX_ENTRIES,
  memoryReplayStore,
  redisReplayStore,
  type DPoPReplayStore,
  type RedisSetNX,
} from './dpop/replay.js';
export {
  createDPoPChecker,
  type DPoPChecker,
  type DPoPCheckerOptions,
  type DPoPRequest,
} from './dpop/check-request.js';
export {
  importEncryptionKey,
  JWE_KEY_ALGORITHMS,
  JWE_CONTENT_ENCRYPTION,
  type EncryptionKey,
  type JWEKeyAlgorithm,
} from './jwe/encryption-key.js';
export { encryptJWT } from './jwe/encrypt.js';
export { decryptJWT, type DecryptJWTOptions } from './jwe/decrypt.js';
export { checkCompactJWE, DEFAULT_MAX_JWE_LENGTH, type CheckedJWE } from './jwe/guard.js';
