/**
 * Device credentials for a bearer-mode client (the server's "device cookies", for a client without a cookie jar): a
 * successful sign-in answers `device_token`, the account's credential; the client keeps it for that account — one
 * entry per account, whichever way it signed in (password, second step, passkey), known by the `sub` of the access
 * token the same answer carries — with the address the account last signed in with by password, and sends it as
 * `device_token` on that address's next sign-ins, so the account-wide lock that anyone who knows the address can set
 * does not keep it out. Like the cookie it holds at most `MAX_DEVICE_TOKENS`, the newest first; a credential the
 * server renews replaces the account's entry. A passkey sign-in names no address beforehand: it sends every
 * credential kept (the server finds the account's, as in the cookie); a password sign-in sends its address's, then
 * those of accounts whose address is not known (signed in by passkey only: one may be this address's). Keeping is
 * best effort: a store that fails leaves the sign-in as it would be without a credential.
 */
import { MAX_DEVICE_TOKENS, type AccessTokenClaims, type SessionTokenResponse } from '@jot/contract';

import { base64url, fromBase64url } from './base64url.js';
import { keptTokens, type DeviceTokenStore, type KeptDeviceToken } from './device-token-store.js';

/** The address a credential is kept for: as typed, without the case and spaces the server ignores too. */
export function deviceAccount(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The account id (`sub`) in a sign-in answer's access token, or undefined when it cannot be read (an encrypted
 * token, RFC 7516, has five parts). Read, not verified: it only names the entry the answer's credential is kept in,
 * and a wrong one costs no more than a credential not found (the server checks every credential it is sent).
 */
export function accountIdOf(accessToken: unknown): string | undefined {
  if (typeof accessToken !== 'string') return undefined;
  const parts = accessToken.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(new TextDecoder().decode(fromBase64url(parts[1]!)));
    // The contract's claim, still unchecked: a renamed claim fails to compile here.
    const fields: Partial<Record<keyof AccessTokenClaims, unknown>> =
      typeof claims === 'object' && claims !== null ? claims : {};
    return typeof fields.sub === 'string' && fields.sub !== '' ? fields.sub : undefined;
  } catch {
    return undefined;
  }
}

/** The `device_token` member for a sign-in of `account` (undefined: every one kept), or undefined for none. */
export function presentedTokens(
  kept: readonly KeptDeviceToken[],
  account: string | undefined,
): string | undefined {
  const mine = account === undefined ? kept : kept.filter((k) => k.account === account);
  const addressless = account === undefined ? [] : kept.filter((k) => k.account === undefined);
  const tokens = [...new Set([...mine, ...addressless].map((k) => k.token))].slice(0, MAX_DEVICE_TOKENS);
  return tokens.length === 0 ? undefined : tokens.join('.');
}

/** Who a sign-in was for: the address it named (`account`, undefined for a passkey) and its account (`user`). */
export interface SignedIn {
  account: string | undefined;
  user: string | undefined;
}

/**
 * What is kept after a sign-in answered `token`: it first, as the account's one entry (every entry of the account
 * it replaces gone: the token itself, the account's, the address's unless that is known to be another account's),
 * the others after, up to the maximum. An address that now signs in to another account is taken off the entry of
 * the account it signed in to before, which keeps its credential.
 */
export function keptAfter(
  kept: readonly KeptDeviceToken[],
  signedIn: SignedIn,
  token: string,
): KeptDeviceToken[] {
  const { account, user } = signedIn;
  const theAccounts = (k: KeptDeviceToken): boolean =>
    k.token === token ||
    (user !== undefined && k.user === user) ||
    (account !== undefined && k.account === account && (user === undefined || k.user === undefined));
  const replaced = kept.filter(theAccounts);
  const owner = user ?? replaced.find((k) => k.user !== undefined)?.user;
  const entry: KeptDeviceToken = {
    account: account ?? replaced.find((k) => k.account !== undefined)?.account,
    ...(owner === undefined ? {} : { user: owner }),
    token,
  };
  const others = kept
    .filter((k) => !theAccounts(k))
    .map((k) => (account !== undefined && k.account === account ? { ...k, account: undefined } : k));
  return [entry, ...others].slice(0, MAX_DEVICE_TOKENS);
}

/** A client's device credentials. */
export interface DeviceCredentials {
  /** The `device_token` to send with a sign-in of `account` (its address; undefined: unknown, a passkey), if any. */
  present(account: string | undefined): Promise<string | undefined>;
  /** Keeps the `device_token` of a successful sign-in's answer `body` for its account, signed in as `account`. */
  keep(account: string | undefined, body: unknown): Promise<void>;
  /** Remembers the address of a password step that answered `mfa_required` with `mfaToken`. */
  awaitSecondStep(mfaToken: string, account: string): void;
  /** The address of the password step of `mfaToken`, when this client made it. */
  accountOf(mfaToken: string): string | undefined;
}

/**
 * What `value` (an address, an account id) is kept as: base64url SHA-256 of the server and it, so the store (an
 * IndexedDB any script of the origin can read, a file) holds neither email addresses nor account ids.
 */
async function stored(server: string, value: string | undefined): Promise<string | undefined> {
  if (value === undefined) return undefined;
  return base64url(
    await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${server}|${value}`)),
  );
}

/** Device credentials for the server at `server` (its base URL), kept in `store`. */
export function createDeviceCredentials(store: DeviceTokenStore, server: string): DeviceCredentials {
  // Whatever the store gives back (one of the app's own, too) is read as a store can have written it.
  const load = (): Promise<KeptDeviceToken[]> => store.load(server).then(keptTokens, () => []);
  // The last password step that asked for a second one (a client signs in one at a time).
  let pending: { mfaToken: string; account: string } | undefined;
  return {
    async present(account) {
      return presentedTokens(await load(), await stored(server, account));
    },
    async keep(account, body) {
      // The contract's members, still unchecked: a renamed member fails to compile here.
      const fields: Partial<Record<keyof SessionTokenResponse, unknown>> =
        typeof body === 'object' && body !== null ? body : {};
      const token = fields.device_token;
      if (typeof token !== 'string' || token === '') return;
      const signedIn: SignedIn = {
        account: await stored(server, account),
        user: await stored(server, accountIdOf(fields.access_token)),
      };
      await store.save(server, keptAfter(await load(), signedIn, token)).catch(() => undefined);
    },
    awaitSecondStep(mfaToken, account) {
      pending = { mfaToken, account };
    },
    accountOf(mfaToken) {
      return pending?.mfaToken === mfaToken ? pending.account : undefined;
    },
  };
}
