/**
 * PostgreSQL LISTEN on one dedicated connection (outside the pool), so every instance hears at once what another
 * committed: revocations and key changes. The connection is re-established with backoff whenever it is lost (a
 * terminated backend, a failover); notifications sent meanwhile are lost, so each (re)connect is reported and the
 * listeners re-read what they follow. Errors are logged, never thrown.
 */
import pg from 'pg';

import type { StoreLogger } from './logger.js';

/** What a change listener reports. */
export interface ChangeHandlers {
  /** A notification's payload, e.g. `revocation:42` or `keys`. */
  onChange(payload: string): void;
  /** Listening (again): anything may have changed while it was not. */
  onListening(): void;
}

/** A running listener. */
export interface ChangeListener {
  /** Whether the LISTEN connection is up right now. */
  readonly listening: boolean;
  close(): Promise<void>;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;

/** Starts listening on `channel`; never rejects (an unreachable database is retried in the background). */
export function startChangeListener(
  connectionString: string,
  channel: string,
  handlers: ChangeHandlers,
  logger?: StoreLogger,
): ChangeListener {
  let client: pg.Client | undefined;
  let listening = false;
  let closed = false;
  let attempt = 0;
  let retry: NodeJS.Timeout | undefined;
  let lastWarning = '';

  function warnOnce(message: string): void {
    if (message !== lastWarning) logger?.warn(message);
    lastWarning = message;
  }

  function lost(current: pg.Client, err?: Error): void {
    if (client !== current) return;
    client = undefined;
    listening = false;
    current.removeAllListeners('notification');
    current.end().catch(() => undefined);
    if (closed) return;
    warnOnce(`postgres change listener lost its connection${err ? `: ${err.message}` : ''}; reconnecting`);
    const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** attempt);
    attempt += 1;
    retry = setTimeout(connect, delay);
    retry.unref();
  }

  function connect(): void {
    if (closed) return;
    const current = new pg.Client({ connectionString, keepAlive: true, connectionTimeoutMillis: 5_000 });
    client = current;
    current.on('error', (err) => lost(current, err));
    current.on('end', () => lost(current));
    current.on('notification', (message) => {
      if (message.channel === channel) handlers.onChange(message.payload ?? '');
    });
    current
      .connect()
      .then(() => current.query(`LISTEN "${channel}"`))
      .then(() => {
        if (client !== current || closed) return;
        listening = true;
        attempt = 0;
        if (lastWarning !== '') logger?.info('postgres change listener is listening again');
        lastWarning = '';
        handlers.onListening();
      })
      .catch((err: unknown) => lost(current, err instanceof Error ? err : new Error(String(err))));
  }

  connect();
  return {
    get listening() {
      return listening;
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const current = client;
      client = undefined;
      listening = false;
      await current?.end().catch(() => undefined);
    },
  };
}
