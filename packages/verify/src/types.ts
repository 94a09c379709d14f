/** Shapes shared by the verifier core, the strategies and the adapters. */

/**
 * The claims of a Jot access token (RFC 9068 plus Jot's `sid`, `ver`, `roles`, `cth`), as verified. Deep-frozen:
 * the verification cache shares one object between requests, so copy before changing anything.
 */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  /** Session id; a logout revokes it. */
  readonly sid: string;
  /** The user's token version when issued; a role change or disable bumps it. */
  readonly ver: number;
  /** Epoch seconds of the last password authentication (RFC 9470 step-up). */
  readonly auth_time: number;
  readonly roles: readonly string[];
  /** Space-separated scopes (RFC 9068 §2.2.3). */
  readonly scope?: string;
  /** Fine-grained permissions, when the issuer adds them. */
  readonly permissions?: readonly string[];
  /** base64url SHA-256 of the session's anti-CSRF token (cookie mode only). */
  readonly cth?: string;
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
  /** Where the token came from. */
  readonly via: 'bearer' | 'cookie';
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
