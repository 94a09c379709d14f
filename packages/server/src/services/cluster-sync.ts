/**
 * Keeps this instance in step with the others on the same database. On PostgreSQL every instance LISTENs on one
 * channel and hears, as each transaction commits, a new revocation entry (`revocation:<id>`: its revocation streams
 * wake at once) or a key-ring change (`keys`: it re-reads the ring, so a rotation — an emergency one too — signs
 * and verifies everywhere within milliseconds). LISTEN/NOTIFY rather than Redis pub/sub: it needs nothing beside
 * the database, a notification is sent only when the change is committed and visible, and it keeps working while
 * Redis is down. When the listener is not connected (or on SQLite) the instance polls every `pollIntervalMs`, and
 * after every reconnect it re-reads everything, since notifications sent meanwhile are lost.
 */
import type { KeyManager } from '../keys/types.js';
import type { ChangeListener, Store } from '../store/index.js';
import type { RevocationService } from './revocation.js';

/** Logging the sync does (a pino / Fastify logger fits). */
interface SyncLogger {
  warn(details: object, message: string): void;
}

/** A running sync. */
export interface ClusterSync {
  /** Whether changes are pushed right now (else this instance polls). */
  readonly pushing: boolean;
  close(): Promise<void>;
}

/** Starts following the other instances' changes. */
export function startClusterSync(options: {
  store: Store;
  keys: KeyManager;
  revocations: RevocationService;
  pollIntervalMs: number;
  logger: SyncLogger;
}): ClusterSync {
  const { store, keys, revocations, pollIntervalMs, logger } = options;
  const refreshKeys = (): void => {
    keys.refresh().catch((err: unknown) => logger.warn({ err }, 'reloading the signing keys failed'));
  };
  const wakeStreams = (): void => {
    revocations.changes.emit('remote');
  };
  const listener: ChangeListener | undefined = store.listenForChanges({
    onChange(payload) {
      if (payload === 'keys') refreshKeys();
      else if (payload.startsWith('revocation:')) wakeStreams();
    },
    onListening() {
      refreshKeys();
      wakeStreams();
    },
  });
  // Revocation streams poll on their own every pollIntervalMs; the key ring is polled here while nothing is pushed.
  const poll = setInterval(() => {
    if (listener?.listening !== true) refreshKeys();
  }, pollIntervalMs);
  poll.unref();
  return {
    get pushing() {
      return listener?.listening === true;
    },
    async close() {
      clearInterval(poll);
      await listener?.close();
    },
  };
}
