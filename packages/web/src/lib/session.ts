/**
 * The page's one Jot client (cookie mode: the tokens stay in HttpOnly cookies, scripts see only the CSRF token)
 * and the signed-in user, loaded from `GET /api/whoami`. The server names its settings in `<meta>` elements
 * (`WEB_UI_META`): its token mode (in single-token mode the client renews the access token instead of refreshing)
 * and whether anyone may register.
 */
import { createClient, JotClientError, type TokenMode, type WhoAmIResponse } from '@jot/client';
import { WEB_UI_META } from '@jot/contract';

/** A setting of the server, as the page that served this script says (undefined when it does not say). */
function serverSetting(name: string): string | undefined {
  return globalThis.document?.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? undefined;
}

/** The server's `JOT_TOKEN_MODE` (refresh when the page does not say). */
function serverTokenMode(): TokenMode {
  return serverSetting(WEB_UI_META.tokenMode) === 'single' ? 'single' : 'refresh';
}

/**
 * Whether the server's `JOT_REGISTRATION` is `open`, so the sign-in page offers to create an account. A page that
 * does not say (a server before the setting was advertised) keeps offering it; the server decides either way.
 */
export function registrationOpen(): boolean {
  return (serverSetting(WEB_UI_META.registration) ?? 'open') === 'open';
}

/** The client every page uses. */
export const jot = createClient({ mode: 'cookie', tokenMode: serverTokenMode() });

let current: WhoAmIResponse | undefined;
/** The newest `loadUser` call started, and the newest whose answer is kept (an older answer never overwrites it). */
let started = 0;
let kept = 0;

/** The signed-in user as last loaded, if any. */
export function currentUser(): WhoAmIResponse | undefined {
  return current;
}

/**
 * Reloads the signed-in user; undefined when there is no session. Of overlapping loads the newest answer is kept, and
 * a failure other than the server refusing the session (a network blip, a 502 during a restart) keeps the user
 * known so far: it is no sign-out.
 */
export async function loadUser(): Promise<WhoAmIResponse | undefined> {
  const ticket = ++started;
  let next: WhoAmIResponse | undefined;
  if (jot.signedIn) {
    try {
      next = await jot.whoami();
    } catch (err) {
      if (!(err instanceof JotClientError && err.status === 401)) return current;
    }
  }
  if (ticket > kept) {
    kept = ticket;
    current = next;
  }
  return current;
}

const refreshListeners = new Set<(who: WhoAmIResponse) => void>();

// One whoami per refresh, whichever pages listen: a refreshed token may carry roles an admin changed meanwhile.
jot.on('session:refreshed', () => {
  void loadUser().then((who) => {
    if (who !== undefined) for (const listener of [...refreshListeners]) listener(who);
  });
});

/**
 * Calls `listener` with the user as the server describes them after each refresh of the session (the newest answer
 * when refreshes overlap); returns the unsubscribe function.
 */
export function onUserRefreshed(listener: (who: WhoAmIResponse) => void): () => void {
  refreshListeners.add(listener);
  return () => refreshListeners.delete(listener);
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
