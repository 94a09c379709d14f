/**
 * Messages between tabs of one origin over a BroadcastChannel: "I refreshed" (with the new expiry, and the access
 * token in memory mode, so a tab waiting on the refresh lock does not refresh again), "a session started" and
 * "the session ended". Messages from other origins cannot arrive (BroadcastChannel is same-origin), but they are
 * still validated: a malformed message is ignored.
 *
 * A message arrives some time after it was posted — later still in a busy browser — so a tab cannot tell from
 * silence that no other tab refreshed. `heard()` settles that: the tab posts a marker to itself, and messages reach
 * a channel in the order they were posted (the HTML standard's BroadcastChannel `postMessage` queues each delivery,
 * on one task source, as it is posted), so once the marker is back every message posted before it was handled.
 */
import { base64url } from './base64url.js';

/** A message between tabs. */
export type TabMessage =
  | { type: 'refreshed' | 'started'; expiresAt: number; accessToken?: string; csrfToken?: string }
  | { type: 'ended' };

/** A channel to the other tabs; a no-op when BroadcastChannel is unavailable or turned off. */
export interface TabChannel {
  post(message: TabMessage): void;
  /**
   * Resolves once every message another tab posted before this call has been handled here (at the latest after
   * {@link HEARD_DEADLINE_MS}, or at `close()`); at once when the channel is off.
   */
  heard(): Promise<void>;
  close(): void;
}

/**
 * How long `heard()` waits for its marker. It comes back within a task or two; the deadline only keeps a refresh
 * from waiting forever on a channel that drops messages, and then the tab refreshes as if it had heard nothing.
 */
export const HEARD_DEADLINE_MS = 1_000;

/** The id of a `heard()` marker (`{ type: 'heard', id }`); older clients ignore the marker as an unknown type. */
function markerId(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { type, id } = data as Record<string, unknown>;
  return type === 'heard' && typeof id === 'string' ? id : undefined;
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
  if (!enabled || typeof BroadcastChannel !== 'function')
    return { post() {}, heard: () => Promise.resolve(), close() {} };
  const channel = new BroadcastChannel(name);
  /** The markers this tab is waiting for, by id. */
  const waiting = new Map<string, () => void>();
  channel.onmessage = (event: MessageEvent<unknown>) => {
    const marker = markerId(event.data);
    // A marker is this tab's own (then everything posted before it is in), or another tab's: nothing to do.
    if (marker !== undefined) {
      waiting.get(marker)?.();
      return;
    }
    const message = parseTabMessage(event.data);
    if (message !== undefined) onMessage(message);
  };
  let closed = false;
  return {
    post(message) {
      if (!closed) channel.postMessage(message);
    },
    heard() {
      if (closed) return Promise.resolve();
      return new Promise((resolve) => {
        const id = base64url(crypto.getRandomValues(new Uint8Array(12)));
        // A channel never receives its own messages: the marker goes out on a second one, to `channel` and the
        // other tabs (which ignore it).
        const sender = new BroadcastChannel(name);
        const deadline = setTimeout(() => done(), HEARD_DEADLINE_MS);
        const done = (): void => {
          clearTimeout(deadline);
          waiting.delete(id);
          sender.close();
          resolve();
        };
        waiting.set(id, done);
        sender.postMessage({ type: 'heard', id });
      });
    },
    close() {
      closed = true;
      channel.close();
      for (const done of [...waiting.values()]) done();
    },
  };
}
