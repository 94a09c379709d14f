/**
 * Messages between tabs of one origin over a BroadcastChannel: "I refreshed" (with the new expiry, and the access
 * token in memory mode, so a tab waiting on the refresh lock does not refresh again), "a session started" and
 * "the session ended". Messages from other origins cannot arrive (BroadcastChannel is same-origin), but they are
 * still validated: a malformed message is ignored.
 */

/** A message between tabs. */
export type TabMessage =
  | { type: 'refreshed' | 'started'; expiresAt: number; accessToken?: string; csrfToken?: string }
  | { type: 'ended' };

/** A channel to the other tabs; a no-op when BroadcastChannel is unavailable or turned off. */
export interface TabChannel {
  post(message: TabMessage): void;
  close(): void;
}

/** An access token as the server issues it (a compact JWS), or any RFC 6750 `b64token`. */
const ACCESS_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;
/** A CSRF token must be usable as a header value: visible ASCII only. */
const CSRF_TOKEN = /^[\x21-\x7e]+$/;

/**
 * Validates a message from another tab; `undefined` for anything malformed. A field that is present must be
 * valid — a bad one voids the whole message rather than being dropped, so a broken sender cannot half-update us.
 */
export function parseTabMessage(data: unknown): TabMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const m = data as Record<string, unknown>;
  if (m.type === 'ended') return { type: 'ended' };
  if (m.type !== 'refreshed' && m.type !== 'started') return undefined;
  const { expiresAt, accessToken, csrfToken } = m;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt) || expiresAt <= 0) return undefined;
  const message: TabMessage = { type: m.type, expiresAt };
  if (accessToken !== undefined) {
    if (typeof accessToken !== 'string' || !ACCESS_TOKEN.test(accessToken)) return undefined;
    message.accessToken = accessToken;
  }
  if (csrfToken !== undefined) {
    if (typeof csrfToken !== 'string' || !CSRF_TOKEN.test(csrfToken)) return undefined;
    message.csrfToken = csrfToken;
  }
  return message;
}

/** Opens the channel `name`; `onMessage` gets messages from other tabs only (never this tab's own). */
export function openTabChannel(
  name: string,
  enabled: boolean,
  onMessage: (message: TabMessage) => void,
): TabChannel {
  if (!enabled || typeof BroadcastChannel !== 'function') return { post() {}, close() {} };
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event: MessageEvent<unknown>) => {
    const message = parseTabMessage(event.data);
    if (message !== undefined) onMessage(message);
  };
  let closed = false;
  return {
    post(message) {
      if (!closed) channel.postMessage(message);
    },
    close() {
      closed = true;
      channel.close();
    },
  };
}
