/**
 * The page's one Jot client (cookie mode: the tokens stay in HttpOnly cookies, scripts see only the CSRF token)
 * and the signed-in user, loaded from `GET /api/whoami`. The server names its token mode in
 * `<meta name="jot-token-mode">`: in single-token mode the client renews the access token instead of refreshing.
 */
import { createClient, type TokenMode, type WhoAmIResponse } from '@jot/client';

/** The server's `JOT_TOKEN_MODE`, as the page that served this script says (refresh when it does not say). */
function serverTokenMode(): TokenMode {
  const meta = globalThis.document?.querySelector('meta[name="jot-token-mode"]');
  return meta?.getAttribute('content') === 'single' ? 'single' : 'refresh';
}

/** The client every page uses. */
export const jot = createClient({ mode: 'cookie', tokenMode: serverTokenMode() });

let current: WhoAmIResponse | undefined;

/** The signed-in user as last loaded, if any. */
export function currentUser(): WhoAmIResponse | undefined {
  return current;
}

/** Reloads the signed-in user; undefined when there is no session. */
export async function loadUser(): Promise<WhoAmIResponse | undefined> {
  current = jot.signedIn ? await jot.whoami().catch(() => undefined) : undefined;
  return current;
}

/** Forgets the user (after the session ended). */
export function forgetUser(): void {
  current = undefined;
}

/** True when the signed-in user has `role`. */
export function hasRole(role: string): boolean {
  return current?.user.roles.includes(role) ?? false;
}

let notice: string | undefined;

/**
 * Leaves a one-time message for the next page (e.g. "you were signed out in another tab"); with `ifNone`, a more
 * specific message already left (e.g. "your account was deleted") is kept.
 */
export function setNotice(text: string, options: { ifNone?: boolean } = {}): void {
  if (options.ifNone && notice !== undefined) return;
  notice = text;
}

let taken: { text: string; at: number } | undefined;

/**
 * Takes the one-time message, if any. A page rendered again right away (a sign-out can end the session twice: the
 * failed refresh, then the logout itself) gets the same message rather than losing it.
 */
export function takeNotice(): string | undefined {
  const text = notice;
  notice = undefined;
  if (text !== undefined) taken = { text, at: Date.now() };
  else if (taken !== undefined && Date.now() - taken.at < 1500) return taken.text;
  return text;
}
