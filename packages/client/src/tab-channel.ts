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

function parse(data: unknown): TabMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const m = data as Record<string, unknown>;
  if (m.type === 'ended') return { type: 'ended' };
  if ((m.type !== 'refreshed' && m.type !== 'started') || typeof m.expiresAt !== 'number') return undefined;
  const message: TabMessage = { type: m.type, expiresAt: m.expiresAt };
  if (typeof m.accessToken === 'string') message.accessToken = m.accessToken;
  if (typeof m.csrfToken === 'string') message.csrfToken = m.csrfToken;
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
    const message = parse(event.data);
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
