/**
 * PostgreSQL LISTEN on one dedicated connection (outside the pool), so every instance hears at once what another
 * committed: revocations and key changes. The connection is re-established with backoff whenever it is lost (a
 * terminated backend, a failover); notifications sent meanwhile are lost, so each (re)connect is reported and the
 * listeners re-read what they follow. Errors are logged, never thrown.
 */
import pg from 'pg';

import type { StoreLogger } from './logger.js';
import { CONNECT_TIMEOUT_MS, KEEPALIVE_DELAY_MS } from './postgres.js';

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

/** The mutable state of one listener, shared by the connect/lost cycle. */
interface ListenerState {
  readonly connectionString: string;
  readonly channel: string;
  readonly handlers: ChangeHandlers;
  readonly logger: StoreLogger | undefined;
  client: pg.Client | undefined;
  listening: boolean;
  closed: boolean;
  attempt: number;
  retry: NodeJS.Timeout | undefined;
  lastWarning: string;
}

function warnOnce(state: ListenerState, message: string): void {
  if (message !== state.lastWarning) state.logger?.warn(message);
  state.lastWarning = message;
}

/** Drops a lost connection and schedules a reconnect with backoff (unless closed). */
function lost(state: ListenerState, current: pg.Client, err?: Error): void {
  if (state.client !== current) return;
  state.client = undefined;
  state.listening = false;
  current.removeAllListeners('notification');
  current.end().catch(() => undefined);
  if (state.closed) return;
  warnOnce(
    state,
    `postgres change listener lost its connection${err ? `: ${err.message}` : ''}; reconnecting`,
  );
  const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** state.attempt);
  state.attempt += 1;
  state.retry = setTimeout(() => connect(state), delay);
  state.retry.unref();
}

/** The LISTEN is up on `current`: resets backoff and reports it. */
function listeningOn(state: ListenerState, current: pg.Client): void {
  if (state.client !== current || state.closed) return;
  state.listening = true;
  state.attempt = 0;
  if (state.lastWarning !== '') state.logger?.info('postgres change listener is listening again');
  state.lastWarning = '';
  state.handlers.onListening();
}

/** Opens a fresh dedicated connection and LISTENs on the channel. */
function connect(state: ListenerState): void {
  if (state.closed) return;
  const { connectionString, channel, handlers } = state;
  // Keepalive probes soon: an idle LISTEN connection sends nothing, so a dead one is noticed only by them.
  const current = new pg.Client({
    connectionString,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  state.client = current;
  current.on('error', (err) => lost(state, current, err));
  current.on('end', () => lost(state, current));
  current.on('notification', (message) => {
    if (message.channel === channel) handlers.onChange(message.payload ?? '');
  });
  current
    .connect()
    .then(() => current.query(`LISTEN "${channel}"`))
    .then(() => listeningOn(state, current))
    .catch((err: unknown) => lost(state, current, err instanceof Error ? err : new Error(String(err))));
}

/** Starts listening on `channel`; never rejects (an unreachable database is retried in the background). */
export function startChangeListener(
  connectionString: string,
  channel: string,
  handlers: ChangeHandlers,
  logger?: StoreLogger,
): ChangeListener {
  const state: ListenerState = {
    connectionString,
    channel,
    handlers,
    logger,
    client: undefined,
    listening: false,
    closed: false,
    attempt: 0,
    retry: undefined,
    lastWarning: '',
  };
  connect(state);
  return {
    get listening() {
      return state.listening;
    },
    async close() {
      state.closed = true;
      clearTimeout(state.retry);
      const current = state.client;
      state.client = undefined;
      state.listening = false;
      await current?.end().catch(() => undefined);
    },
  };
}
