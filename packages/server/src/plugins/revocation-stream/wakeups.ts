/**
 * What wakes or ends one revocation stream's loop, and its heartbeat. New entries (`added` here, `remote` from
 * another instance) wake it; the reader closing the connection or the server beginning to drain end it. The
 * heartbeat is a comment line; a reader that stops reading is cut off when its buffer is still full at the next
 * beat, rather than buffered for without bound. A heartbeat tells the reader its copy is current (@jot/verify counts
 * only events and heartbeats as proof), so it is sent only while the loop keeps reading the feed: a store read that
 * hangs silences the stream, and the reader's copy goes stale instead of looking current.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import type { FastifyInstance } from 'fastify';

// Readers treat a stream that is silent for long as stale (their maxStaleness), so ping often: a comment line is cheap.
export const HEARTBEAT_MS = 5_000;
/** The heartbeat: an SSE comment line. */
export const HEARTBEAT = ': ping\n\n';

/** The state the loop and its wake-ups share. */
export interface StreamState {
  /** The reader left or the server began to drain: the loop ends at its next turn. */
  closed: boolean;
  /** An entry was added since the loop last began to read: read again before sleeping. */
  pending: boolean;
  /** Ends the current sleep at once; set while the loop sleeps. */
  wake: (() => void) | undefined;
  /** When the loop last read the feed successfully (`performance.now()`); -Infinity before its first read. */
  readAt: number;
}

/** A watched stream: its state, and `stop` to release the heartbeat and the listeners. */
export interface StreamWatch {
  readonly state: StreamState;
  stop(): void;
}

/** Starts the heartbeat and the listeners that wake or end the stream on `res`. */
export function watchStream(app: FastifyInstance, req: IncomingMessage, res: ServerResponse): StreamWatch {
  const { changes } = app.jot.revocations;
  const state: StreamState = { closed: false, pending: false, wake: undefined, readAt: -Infinity };
  // A loop that reads at least every poll interval has read within this of any beat.
  const readWithin = HEARTBEAT_MS + app.jot.config.clusterPollIntervalMs;
  const onAdded = (): void => {
    state.pending = true;
    state.wake?.();
  };
  changes.on('added', onAdded);
  changes.on('remote', onAdded);
  const heartbeat = setInterval(() => {
    if (res.writableNeedDrain) res.destroy();
    else if (performance.now() - state.readAt <= readWithin) res.write(HEARTBEAT);
  }, HEARTBEAT_MS);
  const stopOnDrain = app.drain.onStart(() => {
    state.closed = true;
    state.wake?.();
  });
  const release = (): void => {
    clearInterval(heartbeat);
    changes.off('added', onAdded);
    changes.off('remote', onAdded);
  };
  req.on('close', () => {
    state.closed = true;
    release();
    state.wake?.();
  });
  return {
    state,
    stop() {
      release();
      stopOnDrain();
    },
  };
}

/** Resolves after `ms`, or as soon as `state.wake` is called. */
export function sleepUntilWoken(state: StreamState, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    state.wake = () => {
      state.wake = undefined;
      clearTimeout(timer);
      resolve();
    };
  });
}
