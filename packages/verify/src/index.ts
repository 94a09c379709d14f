/**
 * `@jot/verify`: verify Jot access tokens locally from the issuer's JWKS, honour logouts through a replicated
 * revocation list (or introspection), and protect Express, Fastify, Hono and `node:http` apps. Framework adapters
 * import their framework as types only, so using one never loads another.
 *
 * Exactly what docs/verify.md teaches ("Exports" lists every name; a test holds the two together).
 */
export { createVerifier, type Verifier, type AuthResult, type VerifierStats } from './core.js';
export { VERIFIER_DEFAULTS } from './defaults.js';
export type { VerifierOptions, ReplicatedRevocationOptions, StrictRevocationOptions } from './options.js';
export type { Duration } from './duration.js';
export type { RevocationStrategy, RevocationStats } from './revocation/strategy.js';
export type { AccessTokenClaims, VerifiedAuth, Logger, FetchLike, RequestLike } from './types.js';
export { expressAuth } from './express.js';
export { fastifyAuth, jotFastify } from './fastify.js';
export { authOf } from './auth-of.js';
export { honoAuth, type JotHonoEnv } from './hono.js';
export { nodeAuth, fetchAuth, toWebResponse } from './node.js';
export {
  createRequestAuth,
  type RequestAuth,
  type RequestAuthOptions,
  type RequestAuthResult,
  type AuthStep,
} from './request.js';
export { createRequestDPoP, requestDPoP, type DPoPOptions, type RequestDPoP } from './dpop.js';
export type { DecryptionOptions } from './decrypt.js';
export { extractToken, parseAuthorization } from './token.js';
export { checkCsrf } from './csrf.js';
export { RecencyMap } from './recency-map.js';
export { compileGuards, enforceGuards, type Guards, type CompiledGuards } from './guards.js';
export {
  VerifyError,
  isVerifyError,
  errorResponse,
  bearerChallenge,
  tokenRevoked,
  VERIFY_ERROR_CODES,
  REQUEST_AUTH_ERROR_CODES,
  type VerifyErrorCode,
  type BearerChallenge,
  type ErrorResponse,
} from './errors.js';
