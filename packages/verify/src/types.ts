/** Shapes shared by the verifier core, the strategies and the adapters. */

/** RFC 8693 §4.1 `act`: the party acting for the subject; a nested `act` is the one before it. */
export interface ActorClaim {
  readonly sub: string;
  readonly act?: ActorClaim;
  readonly [claim: string]: unknown;
}

/**
 * The claims of a verified access token, as verified. Deep-frozen: the verification cache shares one object
 * between requests, so copy before changing anything.
 *
 * Under the default `profile: 'jot'` every Jot claim below is present and typed: `sid`, `ver` and `auth_time` are
 * required (a Jot user token always has them). Under `profile: 'rfc9068'` only the RFC 9068 §2.2 claims are
 * required (`iss`, `exp`, `aud`, `sub`, `client_id`, `iat`, `jti`); `sid`, `ver` and `auth_time` are checked for
 * type when present, and a service's own client-credentials token has none of them.
 */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  /** Session id; a logout revokes it. Always present under `profile: 'jot'`. */
  readonly sid?: string;
  /** The user's token version when issued; a role change or disable bumps it. Always present under `'jot'`. */
  readonly ver?: number;
  /** Epoch seconds of the last password authentication (RFC 9470 step-up). Always present under `'jot'`. */
  readonly auth_time?: number;
  /** The OAuth client the token was issued to (RFC 9068 §2.2; required under `'rfc9068'`). */
  readonly client_id?: string;
  /** Token exchange (RFC 8693): who acts for `sub`. */
  readonly act?: ActorClaim;
  readonly roles: readonly string[];
  /** Space-separated scopes (RFC 9068 §2.2.3). */
  readonly scope?: string;
  /** Fine-grained permissions, when the issuer adds them. */
  readonly permissions?: readonly string[];
  /** base64url SHA-256 of the session's anti-CSRF token (cookie mode only). */
  readonly cth?: string;
  /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to. */
  readonly cnf?: { readonly jkt: string };
  /** RFC 8176 methods of the authentication (`pwd`, `otp`, `hwk`, `mfa`, …). */
  readonly amr?: readonly string[];
  /** Level of the authentication: Jot issues `aal1` (one factor) and `aal2` (two). */
  readonly acr?: string;
  readonly [claim: string]: unknown;
}

/** What an adapter puts on the request as `auth`. */
export interface VerifiedAuth {
  /** The verified, unrevoked claims. */
  readonly claims: AccessTokenClaims;
  /** The raw access token, to forward downstream. Never log it. */
  readonly token: string;
  /** Where the token came from (`dpop`: `Authorization: DPoP` with a verified proof). */
  readonly via: 'bearer' | 'cookie' | 'dpop';
}

/** Where log lines go. Tokens and secrets are never passed to it. */
export interface Logger {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** The `fetch` the SDK uses (injectable for tests and proxies). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Request headers as `node:http`, Express and Fastify give them, or a Web `Headers`. */
export type HeaderSource =
  { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The part of a request the verifier reads: a `node:http` request, an Express/Fastify request or a Web `Request`. */
export interface RequestLike {
  readonly method?: string;
  readonly headers: HeaderSource;
  /** The path (`node:http`, Fastify, Express) or the absolute URL (Web `Request`), for DPoP's `htu`. */
  readonly url?: string;
  /** Express: the URL before mounting rewrote `url`. */
  readonly originalUrl?: string;
  /** Express and Fastify: `http` or `https` (honouring their trust-proxy settings). */
  readonly protocol?: string;
}

/** A clock in epoch milliseconds. */
export type Clock = () => number;

/** A log sink that discards everything. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Reads one header, case-insensitively, from either header shape; repeated headers give the first value. */
export function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (typeof headers.get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const value = (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value[0];
}
