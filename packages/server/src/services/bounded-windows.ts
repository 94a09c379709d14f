/**
 * Fixed windows counted in one instance's memory, bounded without ever dropping a running window: what the HTTP
 * rate-limit store (http/rate-limit-store.ts) and the failure budgets (services/limiter.ts) count in while Redis is
 * absent or failing. One implementation, so that both keep the same promise: a flood of new keys (many addresses,
 * many IPv6 /64s, many made-up user or mail names) never reopens a spent or half-spent budget.
 */
import { createHash } from 'node:crypto';

/** Least time between two `onFull` reports. */
export const FULL_REPORT_MS = 60_000;

/** A window of one key (or of the keys of one shared slot): its count, and when it ends (the windows' clock). */
class Window {
  count = 0;
  constructor(readonly endsAt: number) {}
}

/** A window as its callers see it: what `count` counted in, to be given back to with `giveBack`. */
export interface CountedWindow {
  readonly count: number;
  readonly endsAt: number;
}

/** Bounds of the memory (tests make them small); `clock` is the windows' clock. */
export interface BoundedWindowsOptions {
  /** Windows of their own (one per key) held at most, over every window length. */
  maxKeys: number;
  /** Shared windows per window length, for the keys that find the memory full of running windows. */
  sharedWindows: number;
  /** Called when a key finds the memory full — at most once every `FULL_REPORT_MS` (the windows' clock). */
  onFull?: () => void;
  clock?: () => number;
}

/**
 * Per-instance windows in bounded memory. A window is dropped only once it has ended: never early, spent or not.
 *
 * The bound: at most `maxKeys` windows of their own (one per key) plus `sharedWindows` shared ones per window length
 * (each caller uses a handful of lengths). A key that finds no window of its own while the memory is full of running
 * windows is counted in a shared window instead, chosen by a hash of the key: it shares that budget with the other
 * keys of the hash — it may be refused early (never late), and `onFull` reports it. A key whose shared window still
 * runs keeps counting there even once room is free again, so moving to a window of its own never restarts a budget
 * it spent in the shared one.
 *
 * Windows of one length end in the order they began, so each length has its own map (in insertion order) and
 * making room reads only the ended windows at the front of each: no call ever scans the memory.
 */
export class BoundedWindows {
  /** Windows of their own, per window length, oldest first. */
  readonly #own = new Map<number, Map<string, Window>>();
  /** Shared windows, per window length, by slot. */
  readonly #shared = new Map<number, Map<number, Window>>();
  #size = 0;
  #reportedAt = -Infinity;
  readonly #maxKeys: number;
  readonly #sharedWindows: number;
  readonly #onFull: () => void;
  readonly #clock: () => number;

  constructor(options: BoundedWindowsOptions) {
    const { maxKeys, sharedWindows } = options;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
      throw new TypeError('maxKeys must be a positive integer');
    if (!Number.isSafeInteger(sharedWindows) || sharedWindows < 1) {
      throw new TypeError('sharedWindows must be a positive integer');
    }
    this.#maxKeys = maxKeys;
    this.#sharedWindows = sharedWindows;
    this.#onFull = options.onFull ?? (() => undefined);
    this.#clock = options.clock ?? Date.now;
  }

  /** Windows of their own held now (ended ones not yet dropped included). */
  get size(): number {
    return this.#size;
  }

  /** Shared windows held now, over all window lengths (ended ones not yet dropped included). */
  get sharedSize(): number {
    let size = 0;
    for (const slots of this.#shared.values()) size += slots.size;
    return size;
  }

  /** Counts one hit of `key` in its running window of `windowMs` (begun now if none runs); the window counted in. */
  count(key: string, windowMs: number): CountedWindow {
    return this.#counted(key, windowMs, this.#clock());
  }

  /** `count`, as the HTTP store answers it: the count in the window and the milliseconds left of it. */
  incr(key: string, windowMs: number): { current: number; ttl: number } {
    const now = this.#clock();
    const window = this.#counted(key, windowMs, now);
    return { current: window.count, ttl: window.endsAt - now };
  }

  /** Milliseconds until the window counting `key` ends, when it holds `max` or more; 0 otherwise. Counts nothing. */
  blockedFor(key: string, windowMs: number, max: number): number {
    const now = this.#clock();
    const window = this.#running(key, windowMs, now);
    return window !== undefined && window.count >= max ? window.endsAt - now : 0;
  }

  /**
   * Gives one hit back to `window` (as `count` returned it) if it still runs and holds any: never to a later window
   * of the same key, whose hits this one never held. True when given back.
   */
  giveBack(window: CountedWindow): boolean {
    if (!(window instanceof Window) || window.endsAt <= this.#clock() || window.count === 0) return false;
    window.count -= 1;
    return true;
  }

  #counted(key: string, windowMs: number, now: number): Window {
    const window = this.#running(key, windowMs, now) ?? this.#begin(key, windowMs, now);
    window.count += 1;
    return window;
  }

  /** The running window `key` counts in (its own, else its shared one); drops the ended ones it finds. */
  #running(key: string, windowMs: number, now: number): Window | undefined {
    const own = this.#own.get(windowMs);
    const window = own?.get(key);
    if (window !== undefined) {
      if (window.endsAt > now) return window;
      own?.delete(key);
      this.#size -= 1;
    }
    return this.#sharedFor(key, windowMs, now);
  }

  /** A window begun now for `key`: of its own, or a shared one when the memory is full of running windows. */
  #begin(key: string, windowMs: number, now: number): Window {
    if (this.#size >= this.#maxKeys) this.#dropEnded(now);
    if (this.#size >= this.#maxKeys) {
      this.#reportFull(now);
      return this.#startShared(key, windowMs, now);
    }
    let own = this.#own.get(windowMs);
    if (own === undefined) {
      own = new Map();
      this.#own.set(windowMs, own);
    }
    const window = new Window(now + windowMs);
    own.set(key, window); // last: the newest window of its length
    this.#size += 1;
    return window;
  }

  #reportFull(now: number): void {
    if (now - this.#reportedAt < FULL_REPORT_MS) return;
    this.#reportedAt = now;
    this.#onFull();
  }

  #slot(key: string): number {
    return createHash('sha256').update(key).digest().readUInt32BE(0) % this.#sharedWindows;
  }

  #sharedFor(key: string, windowMs: number, now: number): Window | undefined {
    const slots = this.#shared.get(windowMs);
    if (slots === undefined || slots.size === 0) return undefined;
    const slot = this.#slot(key);
    const window = slots.get(slot);
    if (window !== undefined && window.endsAt <= now) {
      slots.delete(slot);
      return undefined;
    }
    return window;
  }

  #startShared(key: string, windowMs: number, now: number): Window {
    let slots = this.#shared.get(windowMs);
    if (slots === undefined) {
      slots = new Map();
      this.#shared.set(windowMs, slots);
    }
    const window = new Window(now + windowMs);
    slots.set(this.#slot(key), window);
    return window;
  }

  /** Drops the ended windows of their own (each length's map is oldest first, so only its ended front is read). */
  #dropEnded(now: number): void {
    for (const windows of this.#own.values()) {
      for (const [key, window] of windows) {
        if (window.endsAt > now) break;
        windows.delete(key);
        this.#size -= 1;
      }
    }
  }
}
