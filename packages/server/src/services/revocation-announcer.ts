/**
 * Telling others of new revocation entries once committed: this server's streams (the `changes` emitter), the
 * metric, and the write-through copies (Redis), which the revoking request waits for, up to `SINK_WAIT_MS`, so a
 * logout is in the copy before the client hears it succeeded.
 */
import { EventEmitter } from 'node:events';

import type { Counter } from 'prom-client';

import type { Revocation } from '../store/index.js';

/** How long a revocation waits for its write-through copies before answering anyway. */
export const SINK_WAIT_MS = 250;

/** The announcer of a revocation service. */
export interface RevocationAnnouncer {
  readonly changes: EventEmitter<{ added: [Revocation]; remote: [] }>;
  /** Registers a write-through copy; returns the function that removes it. */
  readonly addSink: (sink: (entry: Revocation) => Promise<void>) => () => void;
  /** After commit: counts and emits each entry, then waits (bounded) for the write-through copies. */
  readonly announce: (entries: readonly Revocation[]) => Promise<void>;
}

/** An announcer; `published` counts the entries by kind. */
export function createRevocationAnnouncer(published?: Pick<Counter<'kind'>, 'inc'>): RevocationAnnouncer {
  const changes = new EventEmitter<{ added: [Revocation]; remote: [] }>();
  const sinks = new Set<(entry: Revocation) => Promise<void>>();
  return {
    changes,
    addSink(sink) {
      sinks.add(sink);
      return () => sinks.delete(sink);
    },
    async announce(entries) {
      for (const entry of entries) {
        published?.inc({ kind: entry.kind });
        changes.emit('added', entry);
      }
      if (sinks.size === 0 || entries.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(entries.flatMap((entry) => [...sinks].map((sink) => sink(entry)))),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, SINK_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
