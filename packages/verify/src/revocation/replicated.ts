/**
 * `replicated`: an in-memory copy of the issuer's revocation list. Loaded from the paged snapshot
 * (`GET /api/revocations`), then kept current from the SSE stream (`GET /api/revocations/stream`), resuming from
 * the last cursor with `Last-Event-ID` after a disconnect, reconnecting with jittered exponential backoff, and
 * reloading the snapshot on a `reset` event (with backoff when resets repeat quickly). A `shutdown` event (the
 * instance is draining) means reconnect at a random point within its `retry:` window, with no backoff, so the load
 * balancer sends the stream to another instance. A check never touches the network.
 *
 * Staleness is the time since the copy was last known current: the snapshot's load, then the stream's last event
 * or heartbeat (a connection that opens, or bytes without either, prove nothing: a buffering proxy, or a feed whose
 * store fails and ends the stream at once). `heartbeatTimeout` (at most
 * `maxStaleness`) bounds how long a silent stream, or one that never answers, is waited on before reconnecting.
 * Past `maxStaleness` the strategy fails closed (503) unless `failOpen` is set; both are counted in `stats()` and
 * logged once per episode.
 *
 * An entry the copy cannot apply (malformed, of an unknown kind, past the 1 MiB event limit, an event of an unknown
 * name carrying an id, or an id the verifier could not send back as `Last-Event-ID`) is never skipped: the cursor stays before it, the snapshot is reloaded, and the copy
 * counts as stale — and the feed as refusing, whatever `failOpen` says — from that moment until a snapshot parses
 * cleanly.
 */
import { FEED_EVENTS, type FeedPage } from '@jot/contract';

import { VerifyError } from '../errors.js';
import { describeError, FetchError, fetchOk, readJSONObject } from '../http.js';
import type { AccessTokenClaims, Clock, FetchLike, Logger } from '../types.js';
import { isRefusal, UnusableAnswer } from './refusal.js';
import { SSEParser, type SSEEvent } from './sse.js';
import { parseFeedEntry, RevocationState, type FeedEntry } from './state.js';
import type { RevocationStats, RevocationStrategy } from './strategy.js';

/**
 * A cursor the verifier can send back: it goes back as the `Last-Event-ID` header, which `fetch` refuses to send (it
 * throws before any request, for every reconnect) when a character is above U+00FF, and which an issuer answers 431
 * when it is too long. The issuer's cursors are `<id>.<tag>.<created>`, under 40 characters; anything outside visible
 * ASCII or longer than this is an answer the verifier cannot use.
 */
const SENDABLE_CURSOR = /^[\x21-\x7e]{1,1024}$/;

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
  /** Aborted by `close()`: ends a snapshot request in flight. */
  readonly #closing = new AbortController();
  #resetRequested = false;
  /** Set by the server's `event: shutdown`: reconnect within its `retry:` hint (ms), to another instance. */
  #moveWithin: number | undefined;
  /** Set by an entry that could not be applied; cleared by a snapshot that parses cleanly. */
  #suspect = false;
  /** `performance.now()` when the last snapshot was swapped in (resets soon after it back off). */
  #snapshotAt = -Infinity;
  #stream: AbortController | undefined;
  #sleep: AbortController | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  readonly #pruneTimer: NodeJS.Timeout;
  readonly #listeners: ((entry: FeedEntry | 'reset') => void)[] = [];
  readonly #ready: Promise<void>;
  #resolveReady: () => void = () => {};
  #rejectReady: (err: Error) => void = () => {};
  #staleEpisode = false;
  #counters = { failOpen: 0, failClosed: 0, connections: 0, failures: 0, snapshots: 0, events: 0 };
  #lastError: string | undefined;
  /** The last failure to reach the feed was an answer that refused (refusal.ts), not an outage. */
  #refused = false;
  readonly #loop: Promise<void>;

  constructor(settings: ReplicatedSettings) {
    this.#s = settings;
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Rejected only by close() before the first snapshot; a caller who never asked must not see it as unhandled.
    this.#ready.catch(() => undefined);
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
    if (this.#connected && !this.#suspect)
      return Math.max(0, now - Math.max(this.#lastChunkAt, this.#currentAt));
    return Math.max(0, now - this.#currentAt);
  }

  check(claims: AccessTokenClaims): void {
    const now = this.#s.clock();
    const staleness = this.staleness(now);
    if (staleness > this.#s.maxStaleness) {
      if (!this.#staleEpisode) {
        this.#staleEpisode = true;
        this.#s.logger.warn(
          `revocation copy is stale (> maxStaleness ${this.#s.maxStaleness} ms); failing ${this.#s.failOpen && !this.#refused ? 'open: accepting tokens not known to be revoked' : 'closed: rejecting tokens'}`,
          { stalenessMs: Number.isFinite(staleness) ? staleness : null, failOpen: this.#s.failOpen },
        );
      }
      if (this.#refused) {
        // The feed answered and refused (wrong secret, rate limited, a redirect): never failing open on it.
        this.#counters.failClosed += 1;
        throw new VerifyError(
          'ERR_VERIFY_REVOCATION_REFUSED',
          'the revocation feed refused this verifier (credential, rate limit or not the expected answer); retry shortly',
          { reason: 'stale' },
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

  /**
   * Stops replicating. Resolves promptly whatever the feed is doing: requests in flight are aborted, and work that
   * cannot be aborted (a custom `fetch` that ignores its signal) is abandoned rather than awaited. A `ready()` still
   * pending rejects.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    clearInterval(this.#pruneTimer);
    clearTimeout(this.#watchdog);
    this.#stream?.abort();
    this.#sleep?.abort();
    if (!this.#loaded) {
      this.#rejectReady(
        new VerifyError(
          'ERR_VERIFY_REVOCATION_UNAVAILABLE',
          'the verifier was closed before the revocation list loaded',
          { reason: 'closed' },
        ),
      );
    }
    await this.#loop;
  }

  /**
   * `promise`, or a rejection as soon as `close()` is called: every wait of the loop goes through here, so no
   * stalled discovery, fetch or body read can keep `close()` waiting.
   */
  #untilClosed<T>(promise: Promise<T>): Promise<T> {
    const signal = this.#closing.signal;
    return new Promise<T>((resolve, reject) => {
      const onClose = (): void => reject(new FetchError('the verifier was closed'));
      if (signal.aborted) onClose();
      signal.addEventListener('abort', onClose, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onClose);
          resolve(value);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onClose);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  async #run(): Promise<void> {
    let attempt = 0;
    let resets = 0;
    let needSnapshot = true;
    while (!this.#closed) {
      try {
        if (needSnapshot) {
          await this.#loadSnapshot();
          needSnapshot = false;
          attempt = 0;
          this.#refused = false;
        }
        await this.#follow(() => {
          attempt = 0;
          this.#refused = false;
        });
      } catch (err) {
        if (this.#closed) break;
        this.#counters.failures += 1;
        this.#lastError = describeError(err);
        // While the copy lacks an entry the feed sent (suspect), no failure to reload is a reason to fail open.
        this.#refused = this.#suspect || isRefusal(err);
        this.#s.logger.warn('revocation feed unavailable; will retry', { error: this.#lastError, attempt });
      }
      this.#disconnected();
      if (this.#closed) break;
      if (this.#moveWithin !== undefined) {
        // The instance is shutting down, not failing: no backoff step, and a random point in its window so a
        // fleet of verifiers does not reconnect all at once.
        const within = Math.min(this.#moveWithin, this.#s.maxReconnectDelay);
        this.#moveWithin = undefined;
        await this.#pause(Math.random() * within);
        continue;
      }
      if (this.#resetRequested) {
        this.#resetRequested = false;
        needSnapshot = true;
        // A feed that keeps answering `reset` must not make a hot loop of snapshots (each one also empties the
        // verification cache): a reset within maxReconnectDelay of the last snapshot waits, exponentially longer.
        resets = performance.now() - this.#snapshotAt < this.#s.maxReconnectDelay ? resets + 1 : 0;
        if (resets > 0) await this.#pause(this.#backoff(resets - 1));
        continue;
      }
      await this.#pause(this.#backoff(attempt));
      attempt += 1;
    }
  }

  /** Jittered exponential delay: between half and all of `min · 2^n`, capped at `maxReconnectDelay`. */
  #backoff(n: number): number {
    const base = Math.min(this.#s.maxReconnectDelay, this.#s.minReconnectDelay * 2 ** n);
    return base / 2 + Math.random() * (base / 2);
  }

  async #pause(ms: number): Promise<void> {
    if (this.#closed) return;
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
    return {
      headers: { authorization: `Bearer ${this.#s.secret}`, ...extra },
      timeoutMs: this.#s.timeoutMs,
      signal: this.#closing.signal,
    };
  }

  /** Builds a fresh state from the paged snapshot and swaps it in whole, so no check sees half a list. */
  async #loadSnapshot(): Promise<void> {
    const base = await this.#untilClosed(this.#s.feedUrl());
    const startedAt = this.#s.clock();
    const state = new RevocationState();
    let cursor: string | undefined;
    for (let page = 0; ; page += 1) {
      const url = new URL(base);
      if (cursor !== undefined) url.searchParams.set('since', cursor);
      // The contract's members, each still unchecked: a renamed member fails to compile here.
      const body: Partial<Record<keyof FeedPage, unknown>> = await this.#untilClosed(
        fetchOk(this.#s.fetch, url.href, this.#request({ accept: 'application/json' })).then((response) =>
          readJSONObject(response, url.href, { maxBytes: 64 << 20 }),
        ),
      );
      if (!Array.isArray(body.entries) || typeof body.cursor !== 'string') {
        throw new UnusableAnswer(`${url.href} did not answer a revocation page`);
      }
      // Kept, it would keep the verifier off the stream for good (and count as an outage): refused instead.
      if (!SENDABLE_CURSOR.test(body.cursor)) {
        throw new UnusableAnswer(`${url.href} answered a cursor this verifier cannot send back`);
      }
      // The feed answered, with a page that starts over: a database that went back mid-load (the load is retried
      // anyway), or an answer that will never do (a proxy that drops `since`) — never an outage to fail open on.
      if (page > 0 && body.snapshot === true)
        throw new UnusableAnswer('the feed restarted while the snapshot loaded');
      for (const raw of body.entries as unknown[]) {
        const entry = parseFeedEntry(raw);
        // Skipping it could drop a revocation: keep the current copy (going stale) and try again later.
        if (entry === undefined)
          throw new UnusableAnswer(`${url.href} sent a malformed or unknown revocation entry`);
        state.apply(entry);
      }
      cursor = body.cursor;
      if (body.has_more !== true) break;
    }
    this.#state = state;
    this.#cursor = cursor;
    this.#currentAt = startedAt;
    this.#suspect = false;
    this.#snapshotAt = performance.now();
    this.#counters.snapshots += 1;
    if (!this.#loaded) {
      this.#loaded = true;
      this.#resolveReady();
    }
    for (const listener of this.#listeners) listener('reset');
  }

  /** Follows the SSE stream until it ends, fails, goes silent or a `reset` arrives. */
  async #follow(onConnected: () => void): Promise<void> {
    const url = await this.#untilClosed(this.#s.streamUrl());
    const controller = new AbortController();
    this.#stream = controller;
    // Armed before the request: a feed that accepts the connection but never answers is abandoned like a silent
    // one, and the caller retries with backoff.
    this.#arm(controller);
    const body = await this.#openStream(url, controller);
    this.#connected = true;
    this.#counters.connections += 1;
    // Opening proves nothing about the copy: a proxy may pass the headers and hold the body back, or the feed may
    // end at once (its store failing). The copy counts as current again, and the backoff starts over, only once the
    // stream delivers an event or a heartbeat (#readStream); until then the watchdog runs from the open.
    this.#arm(controller);
    await this.#readStream(body, controller, onConnected);
  }

  /** Requests the stream (resuming after the cursor) and checks it is one; disarms the watchdog on failure. */
  async #openStream(url: string, controller: AbortController): Promise<ReadableStream<Uint8Array>> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.#cursor !== undefined) headers['last-event-id'] = this.#cursor;
    let response: Response;
    try {
      response = await this.#untilClosed(
        this.#s.fetch(url, {
          headers: { authorization: `Bearer ${this.#s.secret}`, ...headers },
          redirect: 'error',
          signal: controller.signal,
        }),
      );
    } catch (err) {
      clearTimeout(this.#watchdog);
      if (controller.signal.aborted && !this.#closed) {
        throw new FetchError(`${url} did not answer within heartbeatTimeout`, undefined, err);
      }
      throw err;
    }
    if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      clearTimeout(this.#watchdog);
      await response.body?.cancel().catch(() => undefined);
      // The feed does not take this cursor (an instance of an older release, mid-upgrade, knows only the cursors of
      // its own release, not the longer ones of newer instances): start over from a snapshot, whose cursor it does
      // take, rather than retry the refused one until the copy goes stale.
      if (response.status === 400 && this.#cursor !== undefined) this.#resetRequested = true;
      throw new FetchError(`${url} answered ${response.status}`, response.status);
    }
    if (response.body === null) {
      clearTimeout(this.#watchdog);
      throw new FetchError(`${url} answered no body`);
    }
    return response.body;
  }

  /**
   * Applies the stream's events until it ends, fails, goes silent, or a `reset` or `shutdown` arrives. Only an event
   * or a heartbeat (a comment line) shows the feed is serving: bytes without one (a bare `retry:`) re-arm nothing and
   * make the copy no more current; the first one calls `onProof`. A stream that ends before any is a failure.
   */
  async #readStream(
    body: ReadableStream<Uint8Array>,
    controller: AbortController,
    onProof: () => void,
  ): Promise<void> {
    const parser = new SSEParser(this.#cursor);
    const decoder = new TextDecoder();
    const reader = body.getReader();
    let proven = false;
    try {
      for (;;) {
        const { done, value } = await this.#untilClosed(reader.read());
        if (done) {
          if (!proven) throw new FetchError('the revocation stream ended before any event or heartbeat');
          break;
        }
        const heartbeats = parser.comments;
        const events = this.#parse(parser, decoder.decode(value, { stream: true }));
        if (events === undefined) return;
        if (events.length > 0 || parser.comments > heartbeats) {
          this.#alive();
          if (!proven) onProof();
          proven = true;
        }
        for (const event of events) {
          this.#handle(event, parser);
          if (this.#resetRequested || this.#moveWithin !== undefined) return;
        }
      }
    } catch (err) {
      if (controller.signal.aborted && !this.#closed && !this.#resetRequested) {
        throw new FetchError('the revocation stream went silent past heartbeatTimeout', undefined, err);
      }
      if (!controller.signal.aborted) throw err;
    } finally {
      controller.abort();
      // A body that ignores the abort (a custom fetch) is cancelled too, so its connection is let go.
      reader.cancel().catch(() => undefined);
    }
  }

  /** The events `text` completes; `undefined` when one grew past the parser's limit (an entry never applied). */
  #parse(parser: SSEParser, text: string): SSEEvent[] | undefined {
    try {
      return parser.push(text);
    } catch {
      this.#cannotApply('a revocation event is larger than the 1 MiB limit', parser.lastEventId);
      return undefined;
    }
  }

  /**
   * An event the copy cannot apply. Failing closed over time, never open: the cursor stays before it, the snapshot
   * is reloaded, the copy ages from now until a snapshot parses cleanly, and until then the feed counts as refusing
   * (`failOpen` does not apply: the feed answered, with something this verifier cannot use).
   */
  #cannotApply(message: string, id: string | undefined): void {
    this.#s.logger.warn(`${message}; reloading`, { id });
    this.#suspect = true;
    this.#refused = true;
    this.#currentAt = Math.min(this.#currentAt, this.#s.clock());
    this.#resetRequested = true;
  }

  /**
   * One stream event. The cursor moves past `revocation` events applied and the id-only `message` an empty snapshot
   * ends with, nothing else: an event of a name this verifier does not know that carries an id of its own may stand
   * for an entry, so it is never skipped (see `#cannotApply`); one without an id moves nothing and is ignored. An id
   * it could not send back (`SENDABLE_CURSOR`) is never moved to either.
   */
  #handle(event: SSEEvent, parser: SSEParser): void {
    switch (event.event) {
      case FEED_EVENTS.reset:
        this.#resetRequested = true;
        return;
      case FEED_EVENTS.shutdown:
        this.#s.logger.info('the revocation feed is shutting down; reconnecting');
        this.#moveWithin = parser.retry ?? this.#s.minReconnectDelay;
        return;
      case FEED_EVENTS.revocation:
        if (!this.#apply(event)) return;
        break;
      case 'message': // `id: <cursor>` + `data: {}`: where an empty snapshot ends
        break;
      default:
        if (event.id !== undefined && event.id !== '' && event.id !== this.#cursor) {
          this.#cannotApply(
            `a revocation-stream event of an unknown name (${event.event.slice(0, 64)})`,
            event.id,
          );
        }
        return;
    }
    if (event.id === undefined || event.id === '') return;
    // An id that cannot be sent back would keep the verifier off the stream for good: never moved past, as an entry
    // it cannot apply (the entry itself, if any, only adds to the copy, which the reload replaces anyway).
    if (SENDABLE_CURSOR.test(event.id)) this.#cursor = event.id;
    else this.#cannotApply('a revocation-stream event id cannot be sent back', event.id.slice(0, 64));
  }

  /** Applies a `revocation` event; false (and the copy marked, see `#cannotApply`) when it cannot be applied. */
  #apply(event: SSEEvent): boolean {
    let raw: unknown;
    try {
      raw = JSON.parse(event.data);
    } catch {
      raw = undefined;
    }
    const entry = parseFeedEntry(raw);
    if (entry === undefined) {
      this.#cannotApply('a revocation event could not be applied (malformed or unknown kind)', event.id);
      return false;
    }
    this.#state.apply(entry);
    this.#counters.events += 1;
    for (const listener of this.#listeners) listener(entry);
    return true;
  }

  /** (Re)starts the watchdog that abandons `stream` after `heartbeatTimeout` without an event or a heartbeat. */
  #arm(stream: AbortController): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => stream.abort(), this.#s.heartbeatTimeout);
    this.#watchdog.unref();
  }

  #alive(): void {
    const now = this.#s.clock();
    this.#lastChunkAt = now;
    if (!this.#suspect) this.#currentAt = now;
    if (this.#stream !== undefined) this.#arm(this.#stream);
  }

  #disconnected(): void {
    clearTimeout(this.#watchdog);
    if (!this.#connected) return;
    this.#connected = false;
    // Known current up to the last event or heartbeat (or the snapshot, if newer), not up to now: the silence may
    // have been a dead stream.
    if (!this.#suspect) this.#currentAt = Math.max(this.#currentAt, this.#lastChunkAt);
  }
}
