/** `@jot/server`: the Jot auth server as a library (the `jot-server` binary wraps `createServer`). */
export { createServer, buildApp, REDACTED_PATHS, type CreateServerOptions } from './app.js';
export { shutdownGracefully, type ShutdownOptions, type ShutdownReport } from './shutdown.js';
export { shutdownOnSignal, type ShutdownSignal, type SignalSource } from './shutdown-on-signal.js';
export type { Drain } from './http/drain.js';
export { openAdminOps, type AdminOps } from './admin-ops.js';
export { publicSession, publicUser } from './http/views.js';
export { publicSigningKey, publicWithdrawnKey } from './plugins/admin-keys.js';
export { invitationView } from './plugins/invitations/view.js';
export { ensureBootstrapAdmin, warnAboutDevelopmentDefaults } from './bootstrap.js';
export { loadConfig, ConfigError, type Config } from './config/index.js';
export { redactUrl } from './config/seal-config.js';
export { deploymentId } from './services/redis-mirror.js';
export { KeyError, KEY_ERROR_CODES } from './keys/errors.js';
export { openStore, Store, StoreError, STORE_ERROR_CODES } from './store/index.js';
export type { AuthContext, ServerContext } from './context.js';
export type { Clock } from './clock.js';
export { HttpError, SERVER_ERROR_CODES, type ErrorBody, type ServerErrorCode } from './http/errors.js';
export { DomainError, isDomainError, type DomainErrorKind } from './services/errors.js';
export type { RouteEntry } from './http/route-table.js';
export type { KeyManager, SigningKeyInfo, WithdrawnKeyInfo } from './keys/types.js';
export {
  createPasswordHasher,
  MIN_PASSWORD_LENGTH,
  MAX_PASSWORD_LENGTH,
  type PasswordHasher,
} from './services/passwords.js';
export { checkPasswordStrength } from './services/password-policy.js';
export type { Invitation, OutboxMessage, OutboxStatus, Session, User } from './store/index.js';
export type { Mailer, MailRequest } from './services/mail/mailer.js';
export { type ClientService, type ClientRegistration, type ClientUpdate } from './services/clients.js';
export { clientView } from './services/client-view.js';
export { GRANT_TYPES, AUTH_METHODS, DPOP_POLICIES, INTROSPECTION_POLICIES } from './services/client-rules.js';
export type {
  OAuthClient,
  ClientAuthMethod,
  ClientDPoPPolicy,
  ClientIntrospectionPolicy,
} from './store/index.js';
export {
  checkEmail,
  createAccountService,
  emailError,
  type AccountService,
  type AccountOrigin,
  type NewAccount,
} from './services/accounts.js';
export {
  createSecurityEvents,
  SECURITY_EVENT_TYPES,
  type SecurityEvents,
  type SecurityEventType,
  type EventLogger,
} from './services/security-events.js';
export { commonPasswordListSize, isCommonPassword } from './services/common-passwords.js';
export type { RegistrationMode } from './config/types.js';
