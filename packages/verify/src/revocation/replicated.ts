/**
 * `replicated`: an in-memory copy of the issuer's revocation list. Loaded from the paged snapshot
 * (`GET /api/revocations`), then kept current from the SSE stream (`GET /api/revocations/stream`), resuming from
 * the last cursor with `Last-Event-ID` after a disconnect, reconnecting with jittered exponential backoff, and
 * reloading the snapshot on a `reset` event. A check never touches the network.
 *
 * Staleness is the time since the copy was last known current: 0 while the stream is connected and alive (any
 * byte, heartbeats included, within `heartbeatTimeout`), else the time since it was lost. Past `maxStaleness`
 * the strategy fails closed (503) unless `failOpen` is set; both are counted in `stats()` and logged once per
 * episode.
 */
import { VerifyError } from '../errors.js';
import { describeError, FetchError, fetchOk, readJSONObject } from '../http.js';
import type { AccessTokenClaims, Clock, FetchLike, Logger } from '../types.js';
import { SSEParser, type SSEEvent } from './sse.js';
import { parseFeedEntry, RevocationState, type FeedEntry } from './state.js';
import type { RevocationStats, RevocationStrategy } from './strategy.js';

/** Resolved settings of the replicated strategy (times in ms). */
export interface ReplicatedSettings {
  /** The feed credential (`JOT_REVOCATION_SECRET`). */
  secret: string;
  feedUrl: () => Promise<string>;
  streamUrl: () => Promise<string>;
  maxStaleness: number;
  failOpen: boolean;
  heartbeatTimeout: number;
  minReconnectDelay: number;
  maxReconnectDelay: number;
  pruneInterval: number;
  timeoutMs: number;
  fetch: FetchLike;
  clock: Clock;
  logger: Logger;
}

/**
 * Starts replicating at once; `ready()` resolves after the first snapshot.
 *
 * @example
 * // Usually built by createVerifier({ revocation: { strategy: 'replicated', secret } }).
 */
export class ReplicatedRevocation implements RevocationStrategy {
  readonly #s: ReplicatedSettings;
  #state = new RevocationState();
  #cursor: string | undefined;
  #loaded = false;
  #connected = false;
  #currentAt = -Infinity;
  #lastChunkAt = -Infinity;
  #closed = false;
  #resetRequested = false;
  #stream: AbortController | undefined;
  #sleep: AbortController | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  readonly #pruneTimer: NodeJS.Timeout;
  readonly #listeners: ((entry: FeedEntry | 'reset') => void)[] = [];
  readonly #ready: Promise<void>;
  #resolveReady: () => void = () => {};
  #staleEpisode = false;
  #counters = { failOpen: 0, failClosed: 0, connections: 0, failures: 0, snapshots: 0, events: 0 };
  #lastError: string | undefined;
  readonly #loop: Promise<void>;

  constructor(settings: ReplicatedSettings) {
    this.#s = settings;
    this.#ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
    this.#pruneTimer = setInterval(() => {
      this.#state.prune(Math.floor(this.#s.clock() / 1000));
    }, settings.pruneInterval);
    this.#pruneTimer.unref();
    this.#loop = this.#run();
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  subscribe(listener: (entry: FeedEntry | 'reset') => void): void {
    this.#listeners.push(listener);
  }

  /** Milliseconds since the copy was last known current (Infinity before the first snapshot). */
  staleness(now = this.#s.clock()): number {
    if (!this.#loaded) return Infinity;
    if (this.#connected && now - this.#lastChunkAt < this.#s.heartbeatTimeout) return 0;
    return Math.max(0, now - this.#currentAt);
  }

  check(claims: AccessTokenClaims): void {
    const now = this.#s.clock();
    const staleness = this.staleness(now);
    if (staleness > this.#s.maxStaleness) {
      if (!this.#staleEpisode) {
        this.#staleEpisode = true;
        this.#s.logger.warn(
          `revocation copy is stale (> maxStaleness ${this.#s.maxStaleness} ms); failing ${this.#s.failOpen ? 'open: accepting tokens not known to be revoked' : 'closed: rejecting tokens'}`,
          { stalenessMs: Number.isFinite(staleness) ? staleness : null, failOpen: this.#s.failOpen },
        );
      }
      if (!this.#s.failOpen) {
        this.#counters.failClosed += 1;
        throw new VerifyError(
          'ERR_VERIFY_REVOCATION_UNAVAILABLE',
          'revocation status cannot be confirmed right now; retry shortly',
          { reason: 'stale' },
        );
      }
      this.#counters.failOpen += 1;
    } else if (this.#staleEpisode) {
      this.#staleEpisode = false;
      this.#s.logger.info('revocation copy is current again', { stalenessMs: staleness });
    }
    this.#state.check(claims, Math.floor(now / 1000));
  }

  stats(): RevocationStats {
    const stalenessMs = this.staleness();
    return {
      strategy: 'replicated',
      stale: stalenessMs > this.#s.maxStaleness,
      stalenessMs: Number.isFinite(stalenessMs) ? stalenessMs : Number.MAX_SAFE_INTEGER,
      failOpen: this.#counters.failOpen,
      failClosed: this.#counters.failClosed,
      entries: this.#state.counts(),
      cursor: this.#cursor,
      connected: this.#connected,
      requests: this.#counters.connections,
      failures: this.#counters.failures,
      snapshots: this.#counters.snapshots,
      events: this.#counters.events,
      lastError: this.#lastError,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    clearTimeout(this.#watchdog);
    this.#stream?.abort();
    this.#sleep?.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    let needSnapshot = true;
    while (!this.#closed) {
      try {
        if (needSnapshot) {
          await this.#loadSnapshot();
          needSnapshot = false;
          attempt = 0;
        }
        await this.#follow(() => {
          attempt = 0;
        });
      } catch (err) {
        if (this.#closed) break;
        this.#counters.failures += 1;
        this.#lastError = describeError(err);
        this.#s.logger.warn('revocation feed unavailable; will retry', { error: this.#lastError, attempt });
      }
      this.#disconnected();
      if (this.#closed) break;
      if (this.#resetRequested) {
        this.#resetRequested = false;
        needSnapshot = true;
        continue;
      }
      const base = Math.min(this.#s.maxReconnectDelay, this.#s.minReconnectDelay * 2 ** attempt);
      attempt += 1;
      await this.#pause(base / 2 + Math.random() * (base / 2));
    }
  }

  async #pause(ms: number): Promise<void> {
    const controller = new AbortController();
    this.#sleep = controller;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      controller.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #request(extra: Record<string, string> = {}): RequestInit & { timeoutMs: number } {
    return { headers: { authorization: `Bearer ${this.#s.secret}`, ...extra }, timeoutMs: this.#s.timeoutMs };
  }

  /** Builds a fresh state from the paged snapshot and swaps it in whole, so no check sees half a list. */
  async #loadSnapshot(): Promise<void> {
    const base = await this.#s.feedUrl();
    const startedAt = this.#s.clock();
    const state = new RevocationState();
    let cursor: string | undefined;
    for (let page = 0; ; page += 1) {
      const url = new URL(base);
      if (cursor !== undefined) url.searchParams.set('since', cursor);
      const response = await fetchOk(this.#s.fetch, url.href, this.#request({ accept: 'application/json' }));
      const body = await readJSONObject(response, url.href, 64 << 20);
      if (!Array.isArray(body.entries) || typeof body.cursor !== 'string') {
        throw new FetchError(`${url.href} did not answer a revocation page`);
      }
      if (page > 0 && body.snapshot === true)
        throw new FetchError('the feed restarted while the snapshot loaded');
      for (const raw of body.entries as unknown[]) {
        const entry = parseFeedEntry(raw);
        if (entry !== undefined) state.apply(entry);
      }
      cursor = body.cursor;
      if (body.has_more !== true) break;
    }
    this.#state = state;
    this.#cursor = cursor;
    this.#currentAt = startedAt;
    this.#counters.snapshots += 1;
    if (!this.#loaded) {
      this.#loaded = true;
      this.#resolveReady();
    }
    for (const listener of this.#listeners) listener('reset');
  }

  /** Follows the SSE stream until it ends, fails, goes silent or a `reset` arrives. */
  async #follow(onConnected: () => void): Promise<void> {
    const url = await this.#s.streamUrl();
    const controller = new AbortController();
    this.#stream = controller;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.#cursor !== undefined) headers['last-event-id'] = this.#cursor;
    const response = await this.#s.fetch(url, {
      headers: { authorization: `Bearer ${this.#s.secret}`, ...headers },
      signal: controller.signal,
    });
    if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await response.body?.cancel().catch(() => undefined);
      throw new FetchError(`${url} answered ${response.status}`, response.status);
    }
    if (response.body === null) throw new FetchError(`${url} answered no body`);
    this.#connected = true;
    this.#counters.connections += 1;
    this.#alive();
    onConnected();
    const parser = new SSEParser(this.#cursor);
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.#alive();
        for (const event of parser.push(decoder.decode(value, { stream: true }))) {
          this.#handle(event);
          if (this.#resetRequested) return;
        }
      }
    } catch (err) {
      if (controller.signal.aborted && !this.#closed && !this.#resetRequested) {
        throw new FetchError('the revocation stream went silent past heartbeatTimeout', undefined, err);
      }
      if (!controller.signal.aborted) throw err;
    } finally {
      controller.abort();
    }
  }

  #handle(event: SSEEvent): void {
    if (event.event === 'reset') {
      this.#resetRequested = true;
      return;
    }
    if (event.event === 'revocation') {
      let raw: unknown;
      try {
        raw = JSON.parse(event.data);
      } catch {
        raw = undefined;
      }
      const entry = parseFeedEntry(raw);
      if (entry === undefined) {
        this.#s.logger.warn('ignored a malformed revocation event', { id: event.id });
      } else {
        this.#state.apply(entry);
        this.#counters.events += 1;
        for (const listener of this.#listeners) listener(entry);
      }
    }
    if (event.id !== undefined && event.id !== '') this.#cursor = event.id;
  }

  #alive(): void {
    const now = this.#s.clock();
    this.#lastChunkAt = now;
    this.#currentAt = now;
    clearTimeout(this.#watchdog);
    const stream = this.#stream;
    this.#watchdog = setTimeout(() => stream?.abort(), this.#s.heartbeatTimeout);
    this.#watchdog.unref();
  }

  #disconnected(): void {
    clearTimeout(this.#watchdog);
    if (!this.#connected) return;
    this.#connected = false;
    const now = this.#s.clock();
    // Alive until the last byte, or until now if the stream was still within its heartbeat window.
    this.#currentAt = now - this.#lastChunkAt < this.#s.heartbeatTimeout ? now : this.#lastChunkAt;
  }
}
