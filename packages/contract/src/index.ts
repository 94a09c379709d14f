/**
 * `@jot/contract`: the one home of everything that crosses a process boundary between Jot's packages — the claims
 * of an access token, error codes and the error body, token responses, the revocation feed, the views the server's
 * API returns, the cookie, header, path and Redis names, and the one duration parser every option uses. Pure data,
 * types and small pure functions; no runtime dependencies.
 */
export {
  CLI_ERROR_CODES,
  CLIENT_ERROR_CODES,
  CONFIG_ERROR_CODES,
  ERROR_CODES,
  isJotErrorCode,
  JOSE_ERROR_CODES,
  KEY_ERROR_CODES,
  SERVER_ERROR_CODES,
  SERVICE_ERROR_CODES,
  STORE_ERROR_CODES,
  REQUEST_AUTH_ERROR_CODES,
  VERIFY_OWN_ERROR_CODES,
  type CliErrorCode,
  type ClientErrorCode,
  type ConfigErrorCode,
  type ErrorArea,
  type JoseErrorCode,
  type JotErrorCode,
  type KeyErrorCode,
  type RequestAuthCode,
  type ServerErrorCode,
  type ServiceErrorCode,
  type StoreErrorCode,
  type VerifyOwnCode,
} from './error-codes.js';
export type { ErrorBody } from './error-body.js';
export type {
  AdminUserCreateBody,
  EmailChangeBody,
  EmailChangeConfirmBody,
  EmailVerifyBody,
  InvitationAcceptBody,
  InvitationCreateBody,
  LinkTokenBody,
  MailLinkRequestBody,
  PasswordResetBody,
  ProfileBody,
  RolesChangeBody,
} from './account-bodies.js';
export {
  isSessionDelivery,
  SESSION_DELIVERIES,
  type LoginBody,
  type MfaProofFields,
  type MfaSignInBody,
  type PasskeyLoginBody,
  type PasswordChangeBody,
  type ReauthBody,
  type RegisterBody,
  type SessionDelivery,
} from './request-bodies.js';
export {
  ACCESS_TOKEN_TYP,
  FIRST_PARTY_CLIENT_ID,
  type AccessTokenClaims,
  type ActorClaim,
  type ConfirmationClaim,
  type UserAccessTokenClaims,
} from './claims.js';
export type {
  IntrospectionResponse,
  MfaRequiredBody,
  OAuthTokenResponse,
  SessionTokenResponse,
  TokenType,
} from './token-responses.js';
export {
  FEED_EVENTS,
  FEED_PAGE_SIZE,
  FEED_RETENTION_SLACK_SECONDS,
  isRevocationKind,
  REVOCATION_KINDS,
  type FeedEntry,
  type FeedEventData,
  type FeedEventName,
  type FeedPage,
  type FeedResetData,
  type FeedShutdownData,
  type RevocationKind,
  type UserRevocationState,
} from './revocation-feed.js';
export { SECURITY_EVENT_TYPES, type SecurityEventType } from './views.js';
export type {
  AcceptedView,
  ClientAuthMethod,
  ClientListView,
  ClientDPoPPolicy,
  ClientIntrospectionPolicy,
  ClientRegistration,
  ClientUpdate,
  ClientView,
  ClientWithSecret,
  InvitationListView,
  InvitationView,
  MfaFactorView,
  MfaStatusView,
  MfaUserSummaryListView,
  MfaUserSummaryView,
  RecoveryCodesView,
  TotpEnrolmentView,
  SecurityEventListView,
  SecurityEventView,
  SessionListView,
  SessionsRevokedView,
  SessionView,
  SigningKeyListView,
  SigningKeyView,
  RotatedKeyView,
  WithdrawnKeyView,
  UserPageView,
  UserView,
  WhoAmIResponse,
} from './views.js';
export {
  COOKIES,
  ENDPOINTS,
  HEADERS,
  MAX_DEVICE_TOKENS,
  WEB_UI_META,
  WELL_KNOWN,
  type TokenLocation,
} from './http-names.js';
export { rawHeaderCount, rawHeaderValues } from './raw-headers.js';
export { asksForDPoPNonce } from './dpop-nonce.js';
export type { AuthorizationServerMetadata } from './metadata.js';
export { OAUTH_URIS } from './oauth-names.js';
export { DEFAULT_REDIS_NAMESPACE, redisNames, redisNamespaceProblem, type RedisNames } from './redis-keys.js';
export {
  completenessMarkerValue,
  deploymentIdProblem,
  parseCompletenessMarker,
  type CompletenessMarker,
} from './redis-marker.js';
export {
  durationOptionMs,
  parseDuration,
  parseDurationMs,
  refuseRenamedOptions,
  type Duration,
} from './duration.js';
