/** `@jot/server`: the Jot auth server as a library (the `jot-server` binary wraps `createServer`). */
export { createServer, buildApp, REDACTED_PATHS, type CreateServerOptions } from './app.js';
export { ensureBootstrapAdmin, warnAboutDevelopmentDefaults } from './bootstrap.js';
export { loadConfig, ConfigError, type Config } from './config/index.js';
export { openStore, Store, StoreError } from './store/index.js';
export type { AccessTokenClaims, AuthContext, ServerContext, Clock } from './context.js';
export { HttpError, type ErrorBody, type ServerErrorCode } from './http/errors.js';
export type { FeedEntry, FeedPage } from './plugins/revocation-feed.js';
export type { UserRevocationState } from './services/revocation.js';
export type { KeyManager, SigningKeyInfo } from './keys/types.js';
