/**
 * Device credentials for a bearer-mode client (the server's "device cookies", for a client without a cookie jar): a
 * successful sign-in answers `device_token`, the account's credential; the client keeps it for the address it signed
 * in with and sends it as `device_token` on that address's next sign-ins, so the account-wide lock that anyone who
 * knows the address can set does not keep it out. Like the cookie it holds at most `MAX_DEVICE_TOKENS`, the newest
 * first. A passkey sign-in names no address beforehand: it sends every credential kept (the server finds the
 * account's, as in the cookie) and keeps its answer for no address, sent on every later sign-in after the address's
 * own. Keeping is best effort: a store that fails leaves the sign-in as it would be without a credential.
 */
import { MAX_DEVICE_TOKENS, type SessionTokenResponse } from '@jot/contract';

import { base64url } from './base64url.js';
import type { DeviceTokenStore, KeptDeviceToken } from './device-token-store.js';

/** The address a credential is kept for: as typed, without the case and spaces the server ignores too. */
export function deviceAccount(email: string): string {
  return email.trim().toLowerCase();
}

/** The `device_token` member for a sign-in of `account` (undefined: every one kept), or undefined for none. */
export function presentedTokens(
  kept: readonly KeptDeviceToken[],
  account: string | undefined,
): string | undefined {
  const mine = account === undefined ? kept : kept.filter((k) => k.account === account);
  const unnamed = account === undefined ? [] : kept.filter((k) => k.account === undefined);
  const tokens = [...new Set([...mine, ...unnamed].map((k) => k.token))].slice(0, MAX_DEVICE_TOKENS);
  return tokens.length === 0 ? undefined : tokens.join('.');
}

/** What is kept after a sign-in of `account` answered `token`: it first, for its address; the one it replaces gone. */
export function keptAfter(
  kept: readonly KeptDeviceToken[],
  account: string | undefined,
  token: string,
): KeptDeviceToken[] {
  const owner = account ?? kept.find((k) => k.token === token)?.account;
  const others = kept.filter((k) => k.token !== token && (owner === undefined || k.account !== owner));
  return [{ account: owner, token }, ...others].slice(0, MAX_DEVICE_TOKENS);
}

/** A client's device credentials. */
export interface DeviceCredentials {
  /** The `device_token` to send with a sign-in of `account` (undefined: unknown, a passkey), if any. */
  present(account: string | undefined): Promise<string | undefined>;
  /** Keeps the `device_token` of a successful sign-in's answer `body`, for `account`. */
  keep(account: string | undefined, body: unknown): Promise<void>;
  /** Remembers the address of a password step that answered `mfa_required` with `mfaToken`. */
  awaitSecondStep(mfaToken: string, account: string): void;
  /** The address of the password step of `mfaToken`, when this client made it. */
  accountOf(mfaToken: string): string | undefined;
}

/**
 * What a credential is kept under for `account`: base64url SHA-256 of the server and the address, so the store (an
 * IndexedDB any script of the origin can read, a file) holds no email address.
 */
async function storedAccount(server: string, account: string | undefined): Promise<string | undefined> {
  if (account === undefined) return undefined;
  return base64url(
    await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${server}|${account}`)),
  );
}

/** Device credentials for the server at `server` (its base URL), kept in `store`. */
export function createDeviceCredentials(store: DeviceTokenStore, server: string): DeviceCredentials {
  const load = (): Promise<KeptDeviceToken[]> => store.load(server).catch(() => []);
  // The last password step that asked for a second one (a client signs in one at a time).
  let pending: { mfaToken: string; account: string } | undefined;
  return {
    async present(account) {
      return presentedTokens(await load(), await storedAccount(server, account));
    },
    async keep(account, body) {
      // The contract's member, still unchecked: a renamed member fails to compile here.
      const fields: Partial<Record<keyof SessionTokenResponse, unknown>> =
        typeof body === 'object' && body !== null ? body : {};
      const token = fields.device_token;
      if (typeof token !== 'string' || token === '') return;
      const owner = await storedAccount(server, account);
      await store.save(server, keptAfter(await load(), owner, token)).catch(() => undefined);
    },
    awaitSecondStep(mfaToken, account) {
      pending = { mfaToken, account };
    },
    accountOf(mfaToken) {
      return pending?.mfaToken === mfaToken ? pending.account : undefined;
    },
  };
}
