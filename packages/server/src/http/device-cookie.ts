/**
 * The device cookie: where a browser keeps its device credentials (services/login-devices.ts), so that its password
 * sign-ins to an account it signed in to before are not held by the account-wide lock. `HttpOnly; SameSite=Strict;
 * Path=/`, named `__Host-jot_device` when Secure (the prefix pins it to this host: a sibling subdomain cannot plant
 * or shadow it) and `jot_device` on plain-http development (`COOKIES.device` of `@jot/contract`), read only in the
 * spelling this request would set (as the token cookies). Its value is up to {@link MAX_DEVICE_KEYS} tokens joined
 * by `.`, the newest first: one browser, several accounts. A token names no account: only the one it was signed
 * for can verify it.
 *
 * The cookie is set on every successful sign-in (password, second step, passkey), whatever the delivery: a client
 * without a cookie jar simply never presents it and stays under the account-wide lock.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

import { COOKIES } from '@jot/contract';

import { MAX_DEVICE_KEYS } from '../store/index.js';
import { DEVICE_TOKEN_CHARS, type IssuedDevice } from '../services/login-devices.js';
import { cookiesSecure } from './cookies.js';

/** A token's shape (base64url of the right length); the service checks the rest. */
const TOKEN = new RegExp(`^[A-Za-z0-9_-]{${DEVICE_TOKEN_CHARS}}$`);

/** The device tokens the request's device cookie holds (well-formed ones, at most {@link MAX_DEVICE_KEYS}). */
export function deviceTokens(request: FastifyRequest): string[] {
  if (!request.server.jot.loginDevices.enabled) return [];
  const cookies = request.cookies as Partial<Record<string, string>> | undefined;
  const name = cookiesSecure(request.server.jot.config, request)
    ? COOKIES.device.secure
    : COOKIES.device.plain;
  const value = cookies?.[name];
  if (value === undefined) return [];
  const tokens = [...new Set(value.split('.').filter((t) => TOKEN.test(t)))];
  return tokens.slice(0, MAX_DEVICE_KEYS);
}

/** The cookie's tokens after `issued`: it first, the one it replaces gone, the others kept up to the maximum. */
export function deviceCookieTokens(presented: readonly string[], issued: IssuedDevice): string[] {
  const others = presented.filter((t) => t !== issued.token && t !== issued.replaces);
  return [issued.token, ...others].slice(0, MAX_DEVICE_KEYS);
}

/**
 * After a successful sign-in of `userId`: sets the device cookie with the account's device credential (the presented
 * one kept or renewed, or a new one) first. Nothing to store, nothing that can fail.
 */
export function giveDeviceCredential(request: FastifyRequest, reply: FastifyReply, userId: string): void {
  const { loginDevices, config } = request.server.jot;
  if (!loginDevices.enabled) return;
  const presented = deviceTokens(request);
  const issued = loginDevices.issue(userId, presented);
  const secure = cookiesSecure(config, request);
  reply.setCookie(
    secure ? COOKIES.device.secure : COOKIES.device.plain,
    deviceCookieTokens(presented, issued).join('.'),
    {
      httpOnly: true,
      secure,
      sameSite: 'strict',
      path: '/',
      maxAge: Math.floor(loginDevices.ttlMs / 1000),
    },
  );
}
