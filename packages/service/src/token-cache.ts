/**
 * Tokens by what they are for (audience, scope, subject), each fetched once however many callers ask at the same
 * time (single flight), and renewed before it expires:
 * - from `renewBefore` ahead of expiry (at the latest three quarters into a short lifetime) a renewal runs in the
 *   background while callers keep getting the cached token at once — no caller waits for a routine renewal;
 * - in the token's last seconds (10 s, or half the renewal window if that is shorter) callers wait for the renewal,
 *   so that a service idle for a while does not send a token about to expire;
 * - a failed renewal never throws the cached token away: it is served until it expires, and no renewal starts
 *   again for 5 s. Only a caller with no valid token left gets the error. A failed fetch is not cached.
 * The cache holds at most `maxEntries` tokens and forgets the least recently used first. `clear()` also detaches
 * fetches in flight: what they bring back is handed to the callers already waiting, but not cached.
 */
import type { OAuthTokenResponse } from '@jot/contract';

/** From this long before expiry (at most half the renewal window) callers wait for the renewal. */
const WAIT_WINDOW_MS = 10_000;
/** After a failed renewal, none starts again for this long while the cached token is still valid. */
const RETRY_AFTER_MS = 5_000;

/** One cached token; times are epoch ms. */
interface Entry {
  token: string;
  /** From here a renewal runs in the background. */
  renewAt: number;
  /** From here callers wait for the renewal. */
  waitAt: number;
  /** From here the token is never served. */
  expiresAt: number;
  /** After a failed renewal: no new one before this. */
  retryAt: number;
}

/** The entry of a token fetched from `started` on (its lifetime counted from then: never past the real expiry). */
function entryOf(response: OAuthTokenResponse, started: number, renewBeforeMs: number): Entry {
  const lifetime = response.expires_in * 1000;
  const expiresAt = started + lifetime;
  const renewAt = expiresAt - Math.min(renewBeforeMs, lifetime / 4);
  const waitAt = expiresAt - Math.min(WAIT_WINDOW_MS, (expiresAt - renewAt) / 2);
  return { token: response.access_token, renewAt, waitAt, expiresAt, retryAt: 0 };
}

/** The cache. */
export class TokenCache {
  /** In order of use: the least recently used first. */
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<string>>();
  readonly #renewBeforeMs: number;
  readonly #clock: () => number;
  readonly #maxEntries: number;
  /** Bumped by `clear()`: a fetch started before stores nothing. */
  #generation = 0;

  constructor(options: { renewBeforeMs: number; clock: () => number; maxEntries?: number }) {
    this.#renewBeforeMs = options.renewBeforeMs;
    this.#clock = options.clock;
    this.#maxEntries = options.maxEntries ?? 1000;
  }

  /** The cached token for `key`, or the one `fetch` gets (shared by concurrent callers). */
  get(key: string, fetch: () => Promise<OAuthTokenResponse>): Promise<string> {
    const now = this.#clock();
    const entry = this.#entries.get(key);
    if (entry === undefined || now >= entry.expiresAt) {
      this.#entries.delete(key);
      return this.#fetch(key, fetch);
    }
    this.#entries.delete(key); // most recently used: last
    this.#entries.set(key, entry);
    if (now < entry.renewAt) return Promise.resolve(entry.token);
    const renewal = this.#pending.get(key) ?? (now < entry.retryAt ? undefined : this.#fetch(key, fetch));
    if (renewal === undefined || now < entry.waitAt) return Promise.resolve(entry.token);
    return renewal.catch((err: unknown) => {
      if (this.#clock() < entry.expiresAt) return entry.token;
      throw err;
    });
  }

  /** The single flight for `key`: the fetch in progress, else a new one whose token is cached. */
  #fetch(key: string, fetch: () => Promise<OAuthTokenResponse>): Promise<string> {
    const inFlight = this.#pending.get(key);
    if (inFlight !== undefined) return inFlight;
    const generation = this.#generation;
    const started = this.#clock();
    const pending: Promise<string> = fetch()
      .then(
        (response) => {
          if (generation === this.#generation) {
            this.#store(key, entryOf(response, started, this.#renewBeforeMs));
          }
          return response.access_token;
        },
        (err: unknown) => {
          const entry = generation === this.#generation ? this.#entries.get(key) : undefined;
          if (entry !== undefined) entry.retryAt = this.#clock() + RETRY_AFTER_MS;
          throw err;
        },
      )
      .finally(() => {
        if (this.#pending.get(key) === pending) this.#pending.delete(key);
      });
    // A background renewal may have no caller waiting: its failure is handled above, not unhandled.
    void pending.catch(() => undefined);
    this.#pending.set(key, pending);
    return pending;
  }

  /** Caches `entry` as the most recently used, forgetting the least recently used one when full. */
  #store(key: string, entry: Entry): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, entry);
  }

  /** Forgets the token for `key` if it is still `token` (a resource server refused it). */
  drop(key: string, token: string): void {
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key);
  }

  /** Forgets every token; fetches in flight answer their callers but cache nothing, and the next call fetches anew. */
  clear(): void {
    this.#generation += 1;
    this.#entries.clear();
    this.#pending.clear();
  }
}
