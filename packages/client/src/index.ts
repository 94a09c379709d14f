/** `@jot/client`: browser and Node client for a Jot server. */
export { createClient } from './create-client.js';
export type { JotClient } from './create-client.js';
export type { TotpConfirmation } from './account.js';
export { JotClientError, CLIENT_ERROR_CODES } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export { isStepUpError, isStepUpRequired, STEP_UP_ERROR } from './step-up.js';
export type { StepUpChallenge } from './step-up.js';
export { isMfaRequired, JotMfaRequiredError } from './mfa.js';
export type { MfaMethod, MfaProof, PasskeyCredentialJSON } from './mfa.js';
export type {
  ClientOptions,
  DeliveryMode,
  FetchLike,
  LocksLike,
  SessionEndReason,
  SessionEventHandler,
  SessionEvents,
  TokenMode,
} from './types.js';
export type {
  AccessTokenClaims,
  Duration,
  SessionTokenResponse,
  UserView,
  WhoAmIResponse,
} from '@jot/contract';
export { createDPoPSigner, type DPoPSigner } from './dpop.js';
export { defaultKeyStore, indexedDBKeyStore, memoryKeyStore, type DPoPKeyStore } from './dpop-key-store.js';
export {
  defaultDeviceTokenStore,
  indexedDBDeviceTokenStore,
  memoryDeviceTokenStore,
  type DeviceTokenStore,
  type KeptDeviceToken,
} from './device-token-store.js';
