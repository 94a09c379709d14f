/**
 * Tokens by what they are for (audience, scope, subject), each kept until shortly before it expires and fetched
 * once however many callers ask at the same time (single flight). A failed fetch is not cached.
 */
import type { OAuthTokenResponse } from '@jot/contract';

interface Entry {
  token: string;
  /** Epoch ms after which the token is renewed. */
  renewAt: number;
}

/** The cache. */
export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<string>>();
  readonly #renewBeforeMs: number;
  readonly #clock: () => number;
  readonly #maxEntries: number;

  constructor(options: { renewBeforeMs: number; clock: () => number; maxEntries?: number }) {
    this.#renewBeforeMs = options.renewBeforeMs;
    this.#clock = options.clock;
    this.#maxEntries = options.maxEntries ?? 1000;
  }

  /** The cached token for `key`, or the one `fetch` gets (shared by concurrent callers). */
  get(key: string, fetch: () => Promise<OAuthTokenResponse>): Promise<string> {
    const entry = this.#entries.get(key);
    if (entry !== undefined && this.#clock() < entry.renewAt) return Promise.resolve(entry.token);
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      const started = this.#clock();
      pending = fetch()
        .then((response) => {
          const lifetime = response.expires_in * 1000;
          // Renew `renewBefore` ahead of expiry; a short-lived token at the latest three quarters of the way.
          const renewAt = started + lifetime - Math.min(this.#renewBeforeMs, lifetime / 4);
          if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
          this.#entries.set(key, { token: response.access_token, renewAt });
          return response.access_token;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** Forgets the token for `key` if it is still `token` (a resource server refused it). */
  drop(key: string, token: string): void {
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
