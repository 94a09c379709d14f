/**
 * `@jot/verify`: verify Jot access tokens locally from the issuer's JWKS, honour logouts through a replicated
 * revocation list (or introspection), and protect Express, Fastify, Hono and `node:http` apps. Framework adapters
 * import their framework as types only, so using one never loads another.
 */
export { createVerifier, type Verifier, type AuthResult, type VerifierStats } from './core.js';
export {
  ASYMMETRIC_ALGORITHMS,
  type VerifierOptions,
  type ReplicatedRevocationOptions,
  type StrictRevocationOptions,
  type StrictIntrospectionOptions,
  type StrictRedisOptions,
} from './options.js';
export type { RedisClientLike } from './revocation/redis.js';
export {
  createRequestAuth,
  type RequestAuth,
  type RequestAuthOptions,
  type RequestAuthContext,
  type RequestAuthResult,
  type AuthenticateOptions,
} from './request.js';
export {
  VerifyError,
  isVerifyError,
  errorResponse,
  bearerChallenge,
  tokenRevoked,
  VERIFY_ERROR_CODES,
  REQUEST_AUTH_ERROR_CODES,
  type RequestAuthCode,
  type RevokedReason,
  type BearerChallenge,
  type VerifyErrorCode,
  type VerifyOwnCode,
  type VerifyErrorDetails,
  type ErrorBody,
  type ErrorResponse,
} from './errors.js';
export { compileGuards, enforceGuards, type Guards, type CompiledGuards } from './guards.js';
export { checkCsrf } from './csrf.js';
export {
  extractToken,
  parseAuthorization,
  readCookie,
  DEFAULT_COOKIE_NAMES,
  type ExtractedToken,
} from './token.js';
export { discoverIssuer, type IssuerMetadata } from './discovery.js';
export { RemoteJWKS, cacheLifetime, type RemoteJWKSOptions, type JWKSState } from './remote-jwks.js';
export {
  RevocationState,
  parseFeedEntry,
  type FeedEntry,
  type RevocationCounts,
} from './revocation/state.js';
export { SSEParser, type SSEEvent } from './revocation/sse.js';
export { noRevocation, type RevocationStrategy, type RevocationStats } from './revocation/strategy.js';
export { VerificationCache, type CacheStats } from './cache.js';
export { toMillis, type Duration } from './duration.js';
export { authOf } from './auth-of.js';
export type { ClaimsProfile } from './claims.js';
export type {
  AccessTokenClaims,
  ActorClaim,
  VerifiedAuth,
  Logger,
  FetchLike,
  RequestLike,
  HeaderSource,
  Clock,
} from './types.js';
export { expressAuth } from './express.js';
export { fastifyAuth, jotFastify, type JotFastifyOptions } from './fastify.js';
export { honoAuth, type JotHonoEnv } from './hono.js';
export { nodeAuth, fetchAuth, sendErrorResponse, toWebResponse } from './node.js';
export {
  createRequestDPoP,
  requestDPoP,
  requestUrl,
  type DPoPOptions,
  type RequestDPoP,
  type RequestDPoPSettings,
} from './dpop.js';
export { createTokenOpener, isCompactJWE, type DecryptionOptions, type TokenOpener } from './decrypt.js';
