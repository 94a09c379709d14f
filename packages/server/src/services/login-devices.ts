/**
 * Device credentials (OWASP "device cookies"): the defence against anyone who knows an address keeping that
 * account's password sign-in locked. A successful sign-in gives the client a credential for the account; a later
 * sign-in presenting a live one for THAT account is throttled on the credential's own count (login-throttle.ts)
 * instead of by the account-wide lock that attempts without one set.
 *
 * A credential is signed, not stored: base64url of its issue time (8 bytes, epoch ms) ‖ 16 random bytes ‖ the first
 * 16 bytes of HMAC-SHA-256, under a key derived from `JOT_KEK`, over the account's id and those 24 bytes. So it is
 * bound to the account (one of account A proves nothing for B, nor for a new account at a deleted one's address),
 * holds on every instance (they share the KEK), and costs no row and no statement to issue or check: the server keeps
 * nothing per device but, once it has failed, its failure count — in `login_throttles` under `device:` + the token's
 * SHA-256, never the token.
 *
 * A credential lives `JOT_LOGIN_DEVICE_TTL` from its issue. A sign-in with it in the second half of its life gets a
 * new one; earlier, it keeps it. `0` turns all of it off.
 *
 * It also dies at the account's device cut-off (`devicesValidAfter`), which the owner's and admins' clean-ups move
 * with the account's cut-off: a password change or reset, "sign out everywhere", an admin ending the user's
 * sessions, a disable. One issued before is no credential — a thief who signed in once keeps no known device past
 * the owner's clean-up. The one cut-off that leaves it where it stood is the automatic `failure_burst` revoke
 * (`JOT_THEFT_RESPONSES`): others' failed sign-ins end the account's sessions and tokens, but ending the owner's
 * device credential too would leave the owner held by the very lock those failures set. Still nothing is stored:
 * the cut-off comes with the account, read with the throttle's state in the sign-in's one statement.
 */
import { Buffer } from 'node:buffer';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import type { Clock } from '../clock.js';
import { MAX_DEVICE_KEYS } from '../store/index.js';
import { randomBytesPooled } from './random-pool.js';
import { deriveKey } from './secrets.js';

/** What marks a device credential's throttle key (an account's key is plain base64url, without `:`). */
export const DEVICE_KEY_PREFIX = 'device:';

const ISSUED_BYTES = 8;
const NONCE_BYTES = 16;
const MAC_BYTES = 16;
const SIGNED_BYTES = ISSUED_BYTES + NONCE_BYTES;
const TOKEN_BYTES = SIGNED_BYTES + MAC_BYTES;

/** Characters of a device token (40 bytes in base64url). */
export const DEVICE_TOKEN_CHARS = Math.ceil((TOKEN_BYTES * 4) / 3);

/** No account has this id (ids are UUIDs): what an unknown address's MAC checks run against. */
const NO_ACCOUNT = '';

/** The account a credential is checked for: its id and its device cut-off (a `User` is one). */
export interface DeviceAccount {
  readonly id: string;
  /** Credentials issued before this (epoch ms; in its second: see {@link issuedAfterCutOff}) are dead. */
  readonly devicesValidAfter: number;
}

/**
 * Whether a credential issued at `issuedAt` (epoch ms) outlives the account's device cut-off `validAfter` (epoch ms).
 * Compared in whole seconds, as an access token's `iat` is (services/revocation.ts): only one issued in a LATER second
 * lives. A credential issued within the cut-off's own second is dead even when issued after it — the safe side: it
 * may come from a sign-in that raced the cut-off, and no sign-in needs it, since every one waits past that second
 * before it issues anything (`waitPastCutoff`; so does the reissue after a password change).
 */
export function issuedAfterCutOff(issuedAt: number, validAfter: number): boolean {
  return Math.floor(issuedAt / 1000) > Math.floor(validAfter / 1000);
}

/** A device credential of the account signing in that the request presented, with its throttle state. */
export interface PresentedDevice {
  /** The token as the client holds it. */
  token: string;
  /** Its throttle key: `device:` + base64url SHA-256 of the token. */
  key: string;
  /** When it was issued (epoch ms). */
  issuedAt: number;
  /** Consecutive failed sign-ins presenting it (0: none counted). */
  failures: number;
  /** Its sign-ins are refused until this epoch ms (0: not locked). */
  lockedUntil: number;
}

/** What the client should hold for the account after a successful sign-in. */
export interface IssuedDevice {
  /** The token to keep. */
  token: string;
  /**
   * The presented token of this account it replaces — kept (then `token` itself), renewed, or dead (expired, or
   * issued before the account's device cut-off) — or undefined when none of this account was presented.
   */
  replaces: string | undefined;
}

/** The device-credential service. */
export interface LoginDeviceService {
  /** Whether device credentials are on (`JOT_LOGIN_DEVICE_TTL` > 0). */
  readonly enabled: boolean;
  /** Their lifetime, ms. */
  readonly ttlMs: number;
  /** The presented tokens that are well formed and, by their issue time, still live (at most `MAX_DEVICE_KEYS`). */
  live(tokens: readonly string[]): string[];
  /** Whether a well-formed `token` was issued for `userId` (a constant-time MAC check; the lifetime is not checked). */
  belongsTo(token: string, userId: string): boolean;
  /** When a well-formed `token` says it was issued (epoch ms; trustworthy once `belongsTo`), or undefined. */
  issuedAt(token: string): number | undefined;
  /**
   * After a successful sign-in of `account`: its live credential among `presented` (issued after its device
   * cut-off), kept or renewed, or a new one stamped `issuedAt` (default now): the sign-in's `checkedAt`, taken
   * past the cut-off's second (or the new one is dead too) and before the sign-in's last look at the account (so one
   * minted by a sign-in that raced a cut-off dies with it).
   */
  issue(account: DeviceAccount, presented: readonly string[], issuedAt?: number): IssuedDevice;
}

/** The key a device token is throttled under: `device:` + base64url SHA-256. */
export function deviceKey(token: string): string {
  return DEVICE_KEY_PREFIX + createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** The 40 bytes of a token in its one canonical spelling, or undefined. */
function decode(token: string): Buffer | undefined {
  if (token.length !== DEVICE_TOKEN_CHARS) return undefined;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length !== TOKEN_BYTES || bytes.toString('base64url') !== token) return undefined;
  return bytes;
}

/** Builds the service: `kek` keys the MAC (`JOT_KEK`), `ttlMs` is the lifetime (0: off). */
export function createLoginDevices(kek: Uint8Array, clock: Clock, ttlMs: number): LoginDeviceService {
  const macKey = deriveKey(Buffer.from(kek), 'jot login device v1');
  const mac = (userId: string, signed: Uint8Array): Buffer =>
    createHmac('sha256', macKey).update(`${userId}|`).update(signed).digest().subarray(0, MAC_BYTES);
  const issuedAt = (token: string): number | undefined => {
    const bytes = decode(token);
    return bytes === undefined ? undefined : Number(bytes.readBigUInt64BE(0));
  };
  const isLive = (at: number | undefined, now: number): at is number => at !== undefined && at > now - ttlMs;
  const belongsTo = (token: string, userId: string): boolean => {
    const bytes = decode(token);
    if (bytes === undefined) return false;
    return timingSafeEqual(mac(userId, bytes.subarray(0, SIGNED_BYTES)), bytes.subarray(SIGNED_BYTES));
  };
  const mint = (userId: string, now: number): string => {
    const signed = Buffer.alloc(SIGNED_BYTES);
    signed.writeBigUInt64BE(BigInt(now), 0);
    randomBytesPooled(NONCE_BYTES).copy(signed, ISSUED_BYTES);
    return Buffer.concat([signed, mac(userId, signed)]).toString('base64url');
  };
  return {
    enabled: ttlMs > 0,
    ttlMs,
    live(tokens) {
      const now = clock();
      const live = tokens.filter((token) => isLive(issuedAt(token), now));
      return [...new Set(live)].slice(0, MAX_DEVICE_KEYS);
    },
    belongsTo,
    issuedAt,
    issue(account, presented, stamp) {
      const now = clock();
      const mintedAt = stamp ?? now;
      let dead: string | undefined;
      for (const token of presented) {
        const at = issuedAt(token);
        if (at === undefined || !belongsTo(token, account.id)) continue;
        if (isLive(at, now) && issuedAfterCutOff(at, account.devicesValidAfter)) {
          return now - at < ttlMs / 2
            ? { token, replaces: token }
            : { token: mint(account.id, mintedAt), replaces: token };
        }
        // This account's, but dead: the new one takes its place (in the cookie).
        dead ??= token;
      }
      return { token: mint(account.id, mintedAt), replaces: dead };
    },
  };
}

/**
 * Of the live `tokens` (their throttle states alongside, in the same order), the one issued for `account` after its
 * device cut-off, or undefined. Every token's MAC and issue time are checked whatever the answer — for an unknown address
 * (`account` undefined) against an id no account has and no cut-off — so the work does not depend on whether the
 * address has an account.
 */
export function presentedDevice(
  devices: LoginDeviceService,
  account: DeviceAccount | undefined,
  tokens: readonly string[],
  throttles: readonly ({ failures: number; lockedUntil: number } | undefined)[],
): PresentedDevice | undefined {
  let found: PresentedDevice | undefined;
  tokens.forEach((token, i) => {
    const mine = devices.belongsTo(token, account?.id ?? NO_ACCOUNT);
    const issuedAt = devices.issuedAt(token) ?? 0;
    const current = issuedAfterCutOff(issuedAt, account?.devicesValidAfter ?? 0);
    if (!mine || !current || account === undefined || found !== undefined) return;
    found = {
      token,
      key: deviceKey(token),
      issuedAt,
      failures: throttles[i]?.failures ?? 0,
      lockedUntil: throttles[i]?.lockedUntil ?? 0,
    };
  });
  return found;
}
