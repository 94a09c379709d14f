/** Shapes shared by the verifier core, the strategies and the adapters. */

import { rawHeaderCount, type AccessTokenClaims as WireClaims, type TokenLocation } from '@jot/contract';

export type { ActorClaim } from '@jot/contract';

/**
 * The claims of a verified access token: the wire claims of `@jot/contract`, with `roles` always present (`[]`
 * when the token carries none). Deep-frozen: the verification cache shares one object between requests, so copy
 * before changing anything.
 *
 * Under the default `profile: 'jot'` the session claims `sid`, `ver` and `auth_time` are required and checked (a
 * Jot user token always has them). Under `profile: 'rfc9068'` only the RFC 9068 §2.2 claims are required (`iss`,
 * `exp`, `aud`, `sub`, `client_id`, `iat`, `jti`); `sid`, `ver` and `auth_time` are checked for type when present,
 * and a service's own client-credentials token has none of them.
 */
export type AccessTokenClaims = WireClaims & { readonly roles: readonly string[] };

/** What an adapter puts on the request as `auth`. */
export interface VerifiedAuth {
  /** The verified, unrevoked claims. */
  readonly claims: AccessTokenClaims;
  /** The raw access token, to forward downstream. Never log it. */
  readonly token: string;
  /** Where the token came from (`dpop`: `Authorization: DPoP` with a verified proof). */
  readonly via: TokenLocation;
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
  /**
   * `node:http` (and the frameworks over it): the connection, whose `encrypted` is `true` on TLS — what tells a bare
   * request on an `https` server, which has no `protocol`. Typed loosely: a plain `net.Socket` has no `encrypted`.
   */
  readonly socket?: object;
  /**
   * `node:http` and Express: the header lines as received, names and values alternating. `headers` keeps only the
   * first of two `Authorization` lines; these show the second, so the request can be refused.
   */
  readonly rawHeaders?: readonly string[];
  /** Fastify: the `node:http` request underneath, for its `rawHeaders`. */
  readonly raw?: { readonly rawHeaders?: readonly string[] };
}

/** A clock in epoch milliseconds. */
export type Clock = () => number;

/** A log sink that discards everything. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/**
 * How many lines of the header `name` (lower case) a request carries, when that can be told: from the raw lines
 * (`node:http`, Express, Fastify's `raw`), else from an array value. Undefined for a Web `Headers` object, which
 * joins repeated lines into one value ("a, b") — Hono, and any Web `Request`.
 */
export function headerLines(request: RequestLike, name: string): number | undefined {
  const raw = request.rawHeaders ?? request.raw?.rawHeaders;
  if (Array.isArray(raw)) return rawHeaderCount(raw, name);
  const { headers } = request;
  if (typeof headers.get === 'function') return undefined;
  const value = (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name];
  if (value === undefined) return 0;
  return typeof value === 'string' ? 1 : value.length;
}

/** Reads one header, case-insensitively, from either header shape; repeated headers give the first value. */
export function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (typeof headers.get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const value = (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value[0];
}
