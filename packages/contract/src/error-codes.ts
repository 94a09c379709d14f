/**
 * The registry of every error `code` Jot raises, one list per package area. A code is the stable, machine-readable
 * half of a failure: it appears in the `{ error, error_description, code }` body of an HTTP answer, on the errors
 * each SDK throws, and on the CLI's `jot: <CODE>: …` line. Every code is documented in docs/errors.md (a test
 * keeps the two equal); a new code is added here first.
 */

/** `@jot/jose`: a token or key input that failed a check (passed through by the server and `@jot/verify`). */
export const JOSE_ERROR_CODES = [
  /** The compact serialization is malformed: parts, base64url, JSON, or a header parameter of the wrong type. */
  'ERR_JWS_INVALID',
  /** The token is longer than the configured `maxTokenLength`. */
  'ERR_JWS_TOO_LARGE',
  /** The header asks for something Jot deliberately does not implement (`crit` extensions, `b64: false`). */
  'ERR_JWS_UNSUPPORTED',
  /** The signature does not verify with the selected key. */
  'ERR_JWS_SIGNATURE_INVALID',
  /** The payload is not a JSON object. */
  'ERR_JWT_INVALID',
  /** `exp` (or `iat` + `maxTokenAge`) is in the past. */
  'ERR_JWT_EXPIRED',
  /** `nbf` is in the future. */
  'ERR_JWT_NOT_YET_VALID',
  /** A claim (or the `typ` header) is missing, of the wrong type, or does not match what was required. */
  'ERR_JWT_CLAIM_INVALID',
  /** The `alg` is missing, `none`, or not in the allow-list. */
  'ERR_JOSE_ALG_NOT_ALLOWED',
  /** The key was made for another algorithm family (an RSA key offered for HS256, say). */
  'ERR_JOSE_KEY_MISMATCH',
  /** No key in the key set matches the token's `kid`/`alg`. */
  'ERR_JWKS_NO_MATCHING_KEY',
  /** The token has no `kid` and more than one key in the set could verify it. */
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  /** A key could not be imported: malformed JWK/PEM, unsupported type or curve, or a key that is too weak. */
  'ERR_KEY_INVALID',
  /** A DPoP proof (RFC 9449 §4.3) failed a check; `reason` says which (`htm`, `htu`, `ath`, `stale`, …). */
  'ERR_DPOP_PROOF_INVALID',
  /** A DPoP proof was needed (a DPoP-bound token or session, or a policy) and none was sent. */
  'ERR_DPOP_REQUIRED',
  /** The DPoP proof key is not the key the token or refresh-token family is bound to (`cnf.jkt`). */
  'ERR_DPOP_KEY_MISMATCH',
  /** The DPoP proof's `jti` was seen before within the replay window. */
  'ERR_DPOP_PROOF_REPLAYED',
  /** The server wants a current nonce of its own in the proof (`use_dpop_nonce`, RFC 9449 §8–9). */
  'ERR_DPOP_NONCE_REQUIRED',
  /** A compact JWE was refused before decryption: shape, algorithm, `zip`, `crit`, `cty`, `epk`, `p2c`, lengths. */
  'ERR_JWE_INVALID',
  /** The encrypted token is longer than `maxLength`, checked before any decoding. */
  'ERR_JWE_TOO_LARGE',
  /** Decryption failed (wrong key, tampered ciphertext or tag); one answer for every cause. */
  'ERR_JWE_DECRYPTION_FAILED',
] as const;

/**
 * Request authentication, the same from the server's own routes and from every `@jot/verify` adapter (both run one
 * implementation): one condition, one code.
 */
export const REQUEST_AUTH_ERROR_CODES = [
  /**
   * No access token: no `Authorization` header and no access cookie, or an `Authorization` header of another scheme
   * (RFC 6750 §3.1: an unsupported authentication method is no authentication information). 401, challenge without
   * an error.
   */
  'ERR_AUTH_REQUIRED',
  /**
   * An `Authorization: Bearer` (or `DPoP`) header whose credentials are not one token (RFC 6750 §2.1, §3.1), or more
   * than one `Authorization` line (RFC 9110 §5.3). 400.
   */
  'ERR_AUTH_MALFORMED',
  /**
   * The token was revoked, whoever checks it and however: its `jti`, its session (logout), its user (disabled,
   * deleted, signed out everywhere, token version), or an introspection answering `active: false`. 401.
   */
  'ERR_TOKEN_REVOKED',
  /** Cookie authentication on a mutating request without the session's `X-Csrf-Token`. 403. */
  'ERR_CSRF',
  /** The token lacks a scope, role or permission the route needs, or comes from another client or actor. 403. */
  'ERR_FORBIDDEN',
  /** RFC 9470 step-up: the authentication is too old, too weak (`acr`) or lacks a method (`amr`). 401. */
  'ERR_STEP_UP_REQUIRED',
] as const;

/** `@jot/server`'s HTTP answers (JOSE codes pass through for token failures). */
export const SERVER_ERROR_CODES = [
  'ERR_VALIDATION',
  'ERR_BAD_JSON',
  'ERR_JSON_FORBIDDEN_KEY',
  'ERR_BODY_TOO_LARGE',
  'ERR_UNSUPPORTED_MEDIA_TYPE',
  'ERR_HTTP_MALFORMED',
  'ERR_HEADERS_TOO_LARGE',
  'ERR_REQUEST_TIMEOUT',
  'ERR_NOT_FOUND',
  'ERR_METHOD_NOT_ALLOWED',
  'ERR_EXPECTATION_FAILED',
  'ERR_SESSION_ENDED',
  'ERR_USER_DISABLED',
  'ERR_INVALID_CREDENTIALS',
  'ERR_REFRESH_TOKEN_INVALID',
  'ERR_REFRESH_TOKEN_REUSED',
  'ERR_REFRESH_LIMITED',
  'ERR_RENEW_NOT_ENABLED',
  'ERR_TOKEN_ALREADY_RENEWED',
  'ERR_EMAIL_TAKEN',
  'ERR_EMAIL_INVALID',
  'ERR_WEAK_PASSWORD',
  'ERR_PASSWORD_COMMON',
  'ERR_PASSWORD_BLANK',
  'ERR_PASSWORD_CHANGED_MEANWHILE',
  'ERR_CREDENTIALS_CHANGED',
  'ERR_REGISTRATION_CLOSED',
  'ERR_LAST_ADMIN',
  'ERR_LOGIN_LOCKED',
  'ERR_METRICS_AUTH',
  'ERR_RATE_LIMITED',
  'ERR_MFA_REQUIRED',
  'ERR_MFA_TOKEN_INVALID',
  'ERR_MFA_CODE_INVALID',
  'ERR_MFA_LOCKED',
  'ERR_MFA_ALREADY_ENROLLED',
  'ERR_MFA_NOT_ENROLLED',
  'ERR_MFA_ENROLLMENT_REQUIRED',
  'ERR_MFA_FACTOR_UNREADABLE',
  'ERR_PASSKEY_INVALID',
  'ERR_PASSKEY_MALFORMED',
  'ERR_PASSKEY_EXISTS',
  'ERR_FEED_AUTH',
  'ERR_LINK_INVALID',
  'ERR_LINK_EXPIRED',
  'ERR_LINK_USED',
  'ERR_EMAIL_NOT_VERIFIED',
  'ERR_PASSWORD_REQUIRED',
  'ERR_REGISTRATION_INVITE_ONLY',
  'ERR_OAUTH_REQUEST',
  'ERR_CLIENT_AUTH_FAILED',
  'ERR_CLIENT_AUTH_LOCKED',
  'ERR_CLIENT_ASSERTION_INVALID',
  'ERR_CLIENT_ASSERTION_REPLAYED',
  'ERR_GRANT_UNSUPPORTED',
  'ERR_GRANT_NOT_ALLOWED',
  'ERR_SCOPE_INVALID',
  'ERR_SCOPE_WIDENED',
  'ERR_INVALID_TARGET',
  'ERR_EXCHANGE_SUBJECT',
  'ERR_EXCHANGE_DPOP_REQUIRED',
  'ERR_TOKEN_NOT_YOURS',
  'ERR_TOKEN_NOT_DECRYPTABLE',
  'ERR_CLIENT_INVALID',
  'ERR_CLIENT_EXISTS',
  'ERR_CLIENT_NO_SECRET',
  'ERR_CLIENT_PROTECTED',
  'ERR_KEY_ACTIVE',
  'ERR_UNAVAILABLE',
  'ERR_INTERNAL',
] as const;

/** The server's configuration: refused at start (naming the setting), or found in conflict while running (logged). */
export const CONFIG_ERROR_CODES = [
  'ERR_CONFIG_INVALID',
  /** Another deployment writes the Redis revocation mirror under this `JOT_REDIS_NAMESPACE` (logged, no marker). */
  'ERR_REDIS_NAMESPACE_SHARED',
] as const;

/** The server's store: the storage conditions a caller is expected to handle. */
export const STORE_ERROR_CODES = [
  /** A unique key already exists (e.g. a second user with the same email). */
  'ERR_STORE_CONFLICT',
  /** A row refers to a row that does not exist (e.g. a session for an unknown user). */
  'ERR_STORE_REFERENCE',
  /** The database refused a value (U+0000 in text, an integer out of range): bad input that got this far. */
  'ERR_STORE_BAD_VALUE',
  /** The database cannot be reached, is locked for too long, or cannot be opened or written. */
  'ERR_STORE_UNAVAILABLE',
  /**
   * The database answered but refused the connection: authentication failed, or the role or database named in the
   * URL does not exist (PostgreSQL SQLSTATE class 28, 3D000). Retrying does not help; the URL or the database must change.
   */
  'ERR_STORE_REFUSED',
  /** The schema migrations failed when the store was opened. */
  'ERR_STORE_MIGRATION',
  /** The store was used after `close()`. */
  'ERR_STORE_CLOSED',
] as const;

/** The server's signing keys: conditions an operator must act on. */
export const KEY_ERROR_CODES = [
  /** A stored signing key was sealed under a different key-encryption key than the configured `JOT_KEK`. */
  'ERR_KEK_MISMATCH',
  /** A stored signing key's ciphertext is malformed, was tampered with, or does not match its `kid`/`alg`. */
  'ERR_KEY_SEALED_INVALID',
  /** No signing key is active (none stored yet, or every stored key is still pending or retired). */
  'ERR_KEY_NO_ACTIVE',
] as const;

/** Codes only a resource server's verifier (`@jot/verify`) raises: its key set, revocation copy and decryption. */
export const VERIFY_OWN_ERROR_CODES = [
  /**
   * The revocation copy is older than `maxStaleness` (fail closed), the central list could not be asked, or the
   * revocation check threw instead of answering (`reason` `failure`). 503.
   */
  'ERR_VERIFY_REVOCATION_UNAVAILABLE',
  /**
   * The revocation feed, introspection endpoint or Redis mirror answered with a refusal (4xx, a redirect, not the
   * expected answer, an incomplete mirror): always fails closed, even with `failOpen` — whoever can make the issuer
   * refuse must not make revoked tokens pass. 503.
   */
  'ERR_VERIFY_REVOCATION_REFUSED',
  /**
   * No key set is loaded: none could ever be fetched from the issuer, or the last one could not be refreshed for
   * `jwks.maxStale` past its lifetime and was dropped. 503.
   */
  'ERR_VERIFY_KEYS_UNAVAILABLE',
  /**
   * A step of request authentication other than the revocation check failed instead of answering — a dependency
   * down (the DPoP replay store on Redis) or full (the in-memory one, at `maxEntries` live proofs), or a bug — so the
   * request cannot be authenticated right now; `reason`
   * names the step (`token`, `dpop`, `csrf`, `guards`). Never fails open. 503.
   */
  'ERR_VERIFY_UNAVAILABLE',
  /** `decryption.required` is set and the token is a plain signed JWT, not an encrypted one. 401. */
  'ERR_VERIFY_NOT_ENCRYPTED',
] as const;

/** `@jot/service`: failures to get or use a service token. */
export const SERVICE_ERROR_CODES = [
  /** The token endpoint refused the request (`error` says why: `invalid_client`, `invalid_grant`, …). */
  'ERR_SERVICE_TOKEN_REFUSED',
  /** The issuer's metadata could not be read, or has no usable `token_endpoint`. */
  'ERR_SERVICE_DISCOVERY',
  /** The token endpoint could not be reached, timed out, or answered something that is not a token response. */
  'ERR_SERVICE_UNAVAILABLE',
] as const;

/** `@jot/client`: failures of the browser client itself (server codes pass through). */
export const CLIENT_ERROR_CODES = [
  'ERR_CLIENT_NETWORK',
  'ERR_CLIENT_NO_SESSION',
  'ERR_CLIENT_BAD_RESPONSE',
  'ERR_CLIENT_DELIVERY_MISMATCH',
] as const;

/** `@jot/cli`: the codes of its `jot: <CODE>: <message>` lines. */
export const CLI_ERROR_CODES = [
  /** Bad arguments or options: unknown option, wrong choice, malformed JSON, an unusable combination. */
  'ERR_CLI_USAGE',
  /** A file to read does not exist or cannot be read. */
  'ERR_CLI_FILE_UNREADABLE',
  /** A file to write already exists; pass `--force` to replace it. */
  'ERR_CLI_FILE_EXISTS',
  /** A file cannot be written: missing directory, no permission. */
  'ERR_CLI_FILE_UNWRITABLE',
  /** A JWKS URL could not be fetched in time or did not return JSON. */
  'ERR_CLI_JWKS_FETCH',
  /** An environment variable named by an option (`--secret-env`, `--password-env`) is unset or empty. */
  'ERR_CLI_ENV_MISSING',
  /** A password was needed, none was given, and stdin is not a terminal to prompt on. */
  'ERR_CLI_NO_TTY',
  /** The password is too short, too long, equal to the email, or the two entries differ. */
  'ERR_CLI_PASSWORD_REJECTED',
  /** `jot users add`: an account with this email (or a look-alike of it) already exists. */
  'ERR_CLI_ACCOUNT_EXISTS',
  /** Ctrl-C at a prompt. */
  'ERR_CLI_ABORTED',
  /** The user, session or message named does not exist. */
  'ERR_CLI_NOT_FOUND',
  /** A destructive command was run without `--yes`. */
  'ERR_CLI_CONFIRM',
  /** Anything else; the message says what happened. */
  'ERR_CLI_UNEXPECTED',
] as const;

/** Every code, by the package area that raises it. */
export const ERROR_CODES = {
  jose: JOSE_ERROR_CODES,
  auth: REQUEST_AUTH_ERROR_CODES,
  server: SERVER_ERROR_CODES,
  config: CONFIG_ERROR_CODES,
  store: STORE_ERROR_CODES,
  keys: KEY_ERROR_CODES,
  verify: VERIFY_OWN_ERROR_CODES,
  service: SERVICE_ERROR_CODES,
  client: CLIENT_ERROR_CODES,
  cli: CLI_ERROR_CODES,
} as const;

/** A package area of {@link ERROR_CODES}. */
export type ErrorArea = keyof typeof ERROR_CODES;

export type JoseErrorCode = (typeof JOSE_ERROR_CODES)[number];
export type RequestAuthCode = (typeof REQUEST_AUTH_ERROR_CODES)[number];
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];
export type KeyErrorCode = (typeof KEY_ERROR_CODES)[number];
export type VerifyOwnCode = (typeof VERIFY_OWN_ERROR_CODES)[number];
export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

/** Any code of any Jot package. */
export type JotErrorCode = (typeof ERROR_CODES)[ErrorArea][number];

const ALL: ReadonlySet<string> = new Set(Object.values(ERROR_CODES).flat());

/** Whether `value` is a code some Jot package raises (narrows an unknown `code` read off the wire). */
export function isJotErrorCode(value: unknown): value is JotErrorCode {
  return typeof value === 'string' && ALL.has(value);
}
