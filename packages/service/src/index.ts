/**
 * `@jot/service`: the outgoing side of service-to-service auth. A service gets client-credentials tokens from Jot
 * with its private key (RFC 7523 `private_key_jwt`) or secret, keeps them until shortly before they expire,
 * exchanges a user's token for one to call another service on the user's behalf (RFC 8693), and sends them on its
 * outgoing requests. The incoming side — verifying those tokens — is `@jot/verify` (`profile: 'rfc9068'`).
 */
export { createServiceClient, type ServiceClient } from './service-client.js';
export type { ServiceClientOptions, ServiceCredentials, TokenTarget } from './options.js';
export { ServiceError, isServiceError, SERVICE_ERROR_CODES, type ServiceErrorCode } from './errors.js';
export type { FetchLike } from './token-endpoint.js';
export { generateDPoPKey } from './dpop.js';
export type { OAuthTokenResponse } from '@jot/contract';
