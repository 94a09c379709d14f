/** `@jot/client`: browser and Node client for a Jot server. */
export { createClient } from './create-client.js';
export type { JotClient } from './create-client.js';
export { JotClientError, CLIENT_ERROR_CODES } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export type {
  ClientOptions,
  DeliveryMode,
  FetchLike,
  JotClaims,
  JotUser,
  LocksLike,
  SessionEndReason,
  SessionEventHandler,
  SessionEvents,
  TokenResponse,
  WhoAmI,
} from './types.js';
