/** A tiny typed event emitter for the session events; a throwing handler never breaks the others. */
import type { SessionEventHandler, SessionEvents } from './types.js';

/** Subscribe/emit over {@link SessionEvents}. */
export interface Emitter {
  on<E extends keyof SessionEvents>(event: E, handler: SessionEventHandler<E>): () => void;
  emit<E extends keyof SessionEvents>(event: E, payload: SessionEvents[E]): void;
}

/** Creates an emitter. */
export function createEmitter(): Emitter {
  const handlers = new Map<keyof SessionEvents, Set<(payload: never) => void>>();
  return {
    on(event, handler) {
      let set = handlers.get(event);
      if (set === undefined) handlers.set(event, (set = new Set()));
      const entry = handler as (payload: never) => void;
      set.add(entry);
      return () => {
        set.delete(entry);
      };
    },
    emit(event, payload) {
      for (const handler of [...(handlers.get(event) ?? [])]) {
        try {
          (handler as SessionEventHandler<typeof event>)(payload);
        } catch (err) {
          // A UI handler's bug must not stop the session machinery; report it and go on.
          if (typeof globalThis.reportError === 'function') globalThis.reportError(err);
          else console.error(err);
        }
      }
    },
  };
}
