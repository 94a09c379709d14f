/**
 * Test helpers for device credentials (services/login-devices.ts) over HTTP: password sign-ins from ever-new client
 * addresses (the servers under test trust X-Forwarded-For, as behind a proxy: an attacker has many), the device
 * credential an answer gives (cookie or `device_token`), and the account-wide sign-in lock. The servers these are
 * used with allow 2 free failures (`JOT_LOGIN_LOCKOUT` `2/…`).
 */
import { randomInt } from 'node:crypto';

import { expect } from 'vitest';

import { COOKIES } from '@jot/contract';

import type { TestResponse, TestServer } from './jot-server.js';

/** The password every account of these tests has. */
export const PASSWORD = 'correct horse battery';

/** The device cookie's name on plain http (the test servers' scheme). */
export const DEVICE_COOKIE = COOKIES.device.plain;

// A random start: runs at the same time (sharing Redis in a cluster test) never share an address.
let nextAddress = randomInt(1, 2 ** 24 - 100_000);

/** A fresh client address, never used before in this run. */
export function freshAddress(): string {
  return `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;
}

/** What a sign-in sends besides email and password. */
export interface SignInExtras {
  /** A `Cookie` header (a device cookie, `name=value`). */
  cookie?: string;
  /** More headers. */
  headers?: Record<string, string>;
  /** More body members (`device_token`, `delivery`). */
  body?: Record<string, unknown>;
}

/** `POST /api/login` from a fresh address. */
export function signIn(
  server: TestServer,
  email: string,
  password: string,
  { cookie, headers = {}, body = {} }: SignInExtras = {},
): Promise<TestResponse> {
  return server.request('POST', '/api/login', {
    headers: { 'x-forwarded-for': freshAddress(), ...(cookie === undefined ? {} : { cookie }), ...headers },
    body: { email, password, ...body },
  });
}

/** The device cookie a response sets (`name=value`), or undefined. */
export function deviceCookieOf(res: TestResponse, name: string = DEVICE_COOKIE): string | undefined {
  const line = res.headers.getSetCookie().find((l) => l.startsWith(`${name}=`));
  return line?.split(';')[0];
}

/** Signs in with the right password (and `cookie`, when given) and returns the device cookie the answer sets. */
export async function deviceOf(server: TestServer, email: string, cookie?: string): Promise<string> {
  const res = await signIn(server, email, PASSWORD, { cookie });
  expect(res.status, res.text).toBe(200);
  const device = deviceCookieOf(res);
  expect(device, 'a successful sign-in sets the device cookie').toBeDefined();
  return device!;
}

/** Signs in with the right password (body delivery) and returns the `device_token` of the answer. */
export async function deviceTokenOf(server: TestServer, email: string, presented?: string): Promise<string> {
  const res = await signIn(server, email, PASSWORD, {
    body: { delivery: 'bearer', ...(presented === undefined ? {} : { device_token: presented }) },
  });
  expect(res.status, res.text).toBe(200);
  expect(res.body.device_token, 'a body-delivery sign-in answers the device credential').toEqual(
    expect.any(String),
  );
  return res.body.device_token as string;
}

/** The sign-in lock's answer: 429 `ERR_LOGIN_LOCKED` with a `Retry-After`. */
export function expectLocked(res: TestResponse): void {
  expect(res.status, res.text).toBe(429);
  expect(res.body.code).toBe('ERR_LOGIN_LOCKED');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

/** Wrong passwords without a device credential until the account is locked (2 free failures). */
export async function lockAccount(server: TestServer, email: string): Promise<void> {
  for (let i = 0; i < 2; i++) expect((await signIn(server, email, `wrong guess ${i}`)).status).toBe(401);
  expectLocked(await signIn(server, email, PASSWORD));
}
