/**
 * The two browser cookies. The access cookie is `HttpOnly; SameSite=Lax; Path=/` and named `__Host-jot_at` when
 * Secure (the prefix pins it to this host and path). The refresh cookie is `HttpOnly; SameSite=Strict` and scoped by
 * `Path` to the refresh endpoint as the browser addresses it (behind a proxy that strips a path prefix, the prefix of
 * `JOT_EXTERNAL_URL` included), so it is sent nowhere else; `__Secure-jot_rt` when Secure (a `__Host-` cookie
 * must have `Path=/`). Plain-http development on localhost uses the unprefixed names without `Secure`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

import { COOKIES } from '@jot/contract';

import type { Config } from '../config/index.js';

/** The refresh route (as this server serves it). */
export const REFRESH_PATH = '/api/token/refresh';

/**
 * The path the refresh cookie is scoped to: the refresh route as browsers address it. Behind a proxy that strips a
 * path prefix, `JOT_EXTERNAL_URL` carries that prefix (`https://example.com/auth`), and clients refresh at
 * `/auth/api/token/refresh`: a cookie scoped to `/api/token/refresh` would never be sent there.
 */
export function refreshCookiePath(config: Pick<Config, 'externalUrl'>): string {
  if (config.externalUrl === undefined) return REFRESH_PATH;
  return new URL(config.externalUrl).pathname.replace(/\/+$/, '') + REFRESH_PATH;
}

const ACCESS = COOKIES.access;
const REFRESH = COOKIES.refresh;

/** Whether cookies set in answer to this request get `Secure`. */
export function cookiesSecure(config: Config, request: FastifyRequest): boolean {
  // In production `auto` means always: a TLS proxy without JOT_TRUST_PROXY must not downgrade the cookies.
  if (config.cookieSecure === 'auto') return config.nodeEnv === 'production' || request.protocol === 'https';
  return config.cookieSecure;
}

/**
 * Reads only the spelling this request would set: over https the prefixed name, which a sibling subdomain or a
 * plain-http response cannot plant (RFC 6265bis §4.1.3); the unprefixed name only on plain-http development.
 */
function read(request: FastifyRequest, names: { secure: string; plain: string }): string | undefined {
  // `cookies` is absent when an app is assembled without @fastify/cookie (some unit tests do): no cookies then.
  const cookies = request.cookies as Partial<Record<string, string>> | undefined;
  return cookies?.[cookiesSecure(request.server.jot.config, request) ? names.secure : names.plain];
}

/** The name of the access cookie this request would be sent (the spelling `read` accepts). */
export function accessCookieName(request: FastifyRequest): string {
  return cookiesSecure(request.server.jot.config, request) ? ACCESS.secure : ACCESS.plain;
}

/** The access token from its cookie, if any. */
export function accessCookie(request: FastifyRequest): string | undefined {
  return read(request, ACCESS);
}

/** The refresh token from its cookie, if any. */
export function refreshCookie(request: FastifyRequest): string | undefined {
  return read(request, REFRESH);
}

/** Sets the access cookie (`maxAge` seconds) and/or the refresh cookie. */
export function setTokenCookies(
  reply: FastifyReply,
  secure: boolean,
  tokens: { access?: { value: string; maxAge: number }; refresh?: { value: string; maxAge: number } },
): void {
  if (tokens.access) {
    reply.setCookie(secure ? ACCESS.secure : ACCESS.plain, tokens.access.value, {
      httpOnly: true,
      secure,
      sameSite: 'lax',
      path: '/',
      maxAge: tokens.access.maxAge,
    });
  }
  if (tokens.refresh) {
    reply.setCookie(secure ? REFRESH.secure : REFRESH.plain, tokens.refresh.value, {
      httpOnly: true,
      secure,
      sameSite: 'strict',
      path: refreshCookiePath(reply.server.jot.config),
      maxAge: tokens.refresh.maxAge,
    });
  }
}

/** Expires every Jot cookie (both spellings), at the paths they were set with. */
export function clearTokenCookies(reply: FastifyReply): void {
  for (const name of [ACCESS.secure, ACCESS.plain])
    reply.clearCookie(name, { path: '/', secure: name.startsWith('__'), httpOnly: true, sameSite: 'lax' });
  const refreshPath = refreshCookiePath(reply.server.jot.config);
  for (const name of [REFRESH.secure, REFRESH.plain]) {
    reply.clearCookie(name, {
      path: refreshPath,
      secure: name.startsWith('__'),
      httpOnly: true,
      sameSite: 'strict',
    });
  }
}
