/**
 * A BroadcastChannel whose messages arrive late, as in a busy browser: each is handed to the listener `delayMs`
 * after it arrived, in the order they arrived. Install it with `vi.stubGlobal('BroadcastChannel', …)` before the
 * tabs are created (and `vi.unstubAllGlobals()` after), so the cross-tab races can be driven rather than hoped for.
 */

/** The part of the BroadcastChannel interface the client uses. */
interface ChannelLike {
  onmessage: ((event: MessageEvent<unknown>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

/** A BroadcastChannel class (the real one underneath) that delivers every message `delayMs` late. */
export function slowBroadcastChannel(delayMs: number): new (name: string) => ChannelLike {
  const Real = globalThis.BroadcastChannel;
  return class SlowBroadcastChannel implements ChannelLike {
    readonly #inner: BroadcastChannel;
    #handler: ((event: MessageEvent<unknown>) => void) | null = null;
    /** The last delivery: the next one waits for it, so messages keep their order. */
    #tail: Promise<void> = Promise.resolve();
    #closed = false;

    constructor(name: string) {
      this.#inner = new Real(name);
      this.#inner.onmessage = (event: MessageEvent<unknown>) => {
        const due = Date.now() + delayMs;
        this.#tail = this.#tail
          // Past due already when the message before it was late: Node 24 warns (TimeoutNegativeWarning) on a
          // negative delay, which Node 20 and 22 took silently as 1 ms.
          .then(() => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()))))
          .then(() => {
            if (!this.#closed) this.#handler?.(event);
          });
      };
    }

    get onmessage(): ((event: MessageEvent<unknown>) => void) | null {
      return this.#handler;
    }

    set onmessage(handler: ((event: MessageEvent<unknown>) => void) | null) {
      this.#handler = handler;
    }

    postMessage(message: unknown): void {
      this.#inner.postMessage(message);
    }

    close(): void {
      this.#closed = true;
      this.#inner.close();
    }
  };
}
