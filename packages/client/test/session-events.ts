/**
 * Waiting for a client's session events in the client suites, always with a deadline: a missing event fails the
 * test with a message naming it instead of hanging until Vitest's own timeout.
 */
import type { JotClient, SessionEvents } from '../src/index.js';

/** Resolves once `client` has emitted `event` `count` times; rejects after `timeoutMs`. */
export function times<E extends keyof SessionEvents>(
  client: JotClient,
  event: E,
  count: number,
  timeoutMs = 30_000,
): Promise<Array<SessionEvents[E]>> {
  return new Promise((resolve, reject) => {
    const seen: Array<SessionEvents[E]> = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`only ${seen.length} of ${count} ${event} events within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.on(event, (payload) => {
      seen.push(payload);
      if (seen.length === count) {
        clearTimeout(timer);
        off();
        resolve(seen);
      }
    });
  });
}

/** The next payload of `event` on `client`; rejects after `timeoutMs`. */
export async function next<E extends keyof SessionEvents>(
  client: JotClient,
  event: E,
  timeoutMs = 10_000,
): Promise<SessionEvents[E]> {
  const [payload] = await times(client, event, 1, timeoutMs);
  return payload!;
}
