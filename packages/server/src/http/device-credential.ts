/**
 * Device credentials on the wire (services/login-devices.ts): how a client keeps the credentials that let its
 * password sign-ins to an account it signed in to before pass the account-wide lock.
 *
 * A browser keeps them in the device cookie: `HttpOnly; SameSite=Strict; Path=/`, named `__Host-jot_device` when
 * Secure (the prefix pins it to this host: a sibling subdomain cannot plant or shadow it) and `jot_device` on
 * plain-http development (`COOKIES.device` of `@jot/contract`), read only in the spelling this request would set (as
 * the token cookies). Its value is up to {@link MAX_DEVICE_KEYS} tokens joined by `.`, the newest first: one
 * browser, several accounts. A token names no account: only the one it was signed for can verify it. The cookie is
 * set on every successful sign-in (password, second step, passkey), whatever the delivery, and on a password change
 * (whose cut-off ends the credentials issued before: the changing client gets a fresh one).
 *
 * A client without a cookie jar (body delivery, `bearer`: a native app, a server) gets the account's token in the
 * sign-in answer's `device_token` as well, and presents it in the `device_token` member of its next sign-in bodies:
 * the same syntax as the cookie's value, the same checks, at most as many tokens, presented before the cookie's.
 * Cookie and memory deliveries never see it in the body: their page's script has no business holding it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

import { COOKIES } from '@jot/contract';

import { MAX_DEVICE_KEYS } from '../store/index.js';
import { DEVICE_TOKEN_CHARS, type DeviceAccount, type IssuedDevice } from '../services/login-devices.js';
import { cookiesSecure } from './cookies.js';

/** A token's shape (base64url of the right length); the service checks the rest. */
const TOKEN = new RegExp(`^[A-Za-z0-9_-]{${DEVICE_TOKEN_CHARS}}$`);

/** The well-formed tokens of a cookie value or `device_token` (joined by `.`), each once, at most the maximum. */
function parseTokens(value: string | undefined): string[] {
  if (value === undefined) return [];
  const tokens = [...new Set(value.split('.').filter((t) => TOKEN.test(t)))];
  return tokens.slice(0, MAX_DEVICE_KEYS);
}

/** The device tokens the request's device cookie holds (well-formed ones, at most {@link MAX_DEVICE_KEYS}). */
function cookieTokens(request: FastifyRequest): string[] {
  const cookies = request.cookies as Partial<Record<string, string>> | undefined;
  const name = cookiesSecure(request.server.jot.config, request)
    ? COOKIES.device.secure
    : COOKIES.device.plain;
  return parseTokens(cookies?.[name]);
}

/**
 * The device tokens a sign-in presents: those of its body's `device_token` first, then the cookie's (well-formed
 * ones, each once, at most {@link MAX_DEVICE_KEYS} in all). None while device credentials are off.
 */
export function deviceTokens(request: FastifyRequest, bodyToken: string | undefined): string[] {
  if (!request.server.jot.loginDevices.enabled) return [];
  const tokens = [...new Set([...parseTokens(bodyToken), ...cookieTokens(request)])];
  return tokens.slice(0, MAX_DEVICE_KEYS);
}

/** The cookie's tokens after `issued`: it first, the one it replaces gone, the others kept up to the maximum. */
export function deviceCookieTokens(presented: readonly string[], issued: IssuedDevice): string[] {
  const others = presented.filter((t) => t !== issued.token && t !== issued.replaces);
  return [issued.token, ...others].slice(0, MAX_DEVICE_KEYS);
}

/**
 * After a successful sign-in of `account` (or a password change that keeps the caller's session), whose last look at
 * the account was at `checkedAt` (`CheckedTokenPair`; a new credential is stamped with it): sets the device
 * cookie with the account's device credential (the presented one — in `bodyToken` or the cookie — kept or renewed
 * while it lives and postdates the account's device cut-off, else a new one) first, and returns that token for a body
 * delivery's `device_token` (undefined while device credentials are off). Nothing to store, nothing that can fail.
 * Call it only after the session's tokens were issued: they waited past the cut-off's second, so a new credential
 * outlives the cut-off.
 */
export function giveDeviceCredential(
  request: FastifyRequest,
  reply: FastifyReply,
  account: DeviceAccount,
  bodyToken: string | undefined,
  checkedAt: number,
): string | undefined {
  const { loginDevices, config } = request.server.jot;
  if (!loginDevices.enabled) return undefined;
  const inCookie = cookieTokens(request);
  const issued = loginDevices.issue(account, deviceTokens(request, bodyToken), checkedAt);
  const secure = cookiesSecure(config, request);
  reply.setCookie(
    secure ? COOKIES.device.secure : COOKIES.device.plain,
    deviceCookieTokens(inCookie, issued).join('.'),
    {
      httpOnly: true,
      secure,
      sameSite: 'strict',
      path: '/',
      maxAge: Math.floor(loginDevices.ttlMs / 1000),
    },
  );
  return issued.token;
}
