/**
 * How a session starts, is refreshed and ends in this tab, and how those changes travel between tabs. `epoch` is
 * bumped by every local end of the session and by every new sign-in (here or in another tab): a refresh answer from
 * an earlier epoch is dropped, so a sign-out during an in-flight refresh stays a sign-out, and a refresh of the
 * previous session never lands on the new one. After `closed` is set nothing is adopted and `session:ended` is not
 * emitted.
 */
import type { Emitter } from './emitter.js';
import { JotClientError } from './errors.js';
import type { RefreshTimer } from './refresh-timer.js';
import type { SessionSnapshot, SessionState } from './session-state.js';
import type { TabMessage } from './tab-channel.js';
import type { DeliveryMode, SessionEndReason } from './types.js';

/** What the lifecycle acts on. */
export interface LifecycleSettings {
  mode: DeliveryMode;
  state: SessionState;
  events: Emitter;
  timer: RefreshTimer;
  /** Posts to the other tabs (a no-op when the session is not shared). */
  post: (message: TabMessage) => void;
}

/** The session's transitions. */
export interface SessionLifecycle {
  /** Changes whenever the session is ended locally or a new one starts. */
  epoch(): number;
  /** Voids every refresh in flight (a sign-out is starting, or a new session was signed in). */
  bumpEpoch(): void;
  /** Stops adopting anything and emitting `session:ended` (the client was closed). */
  close(): void;
  adopt(
    snapshot: SessionSnapshot,
    event: 'session:started' | 'session:refreshed',
    source: 'local' | 'other-tab',
  ): void;
  end(reason: SessionEndReason, broadcast: boolean): void;
  onTabMessage(message: TabMessage): void;
}

/** Builds the lifecycle of one client. */
export function createSessionLifecycle({
  mode,
  state,
  events,
  timer,
  post,
}: LifecycleSettings): SessionLifecycle {
  let epoch = 0;
  let closed = false;

  const lifecycle: SessionLifecycle = {
    epoch: () => epoch,
    bumpEpoch() {
      epoch++;
    },
    close() {
      closed = true;
    },
    adopt(snapshot, event, source) {
      if (closed) return;
      if (!Number.isFinite(snapshot.expiresAt) || snapshot.expiresAt <= 0) {
        throw new JotClientError('ERR_CLIENT_BAD_RESPONSE', 'the session has no valid expiry');
      }
      state.set(snapshot);
      timer.schedule(snapshot.expiresAt);
      events.emit(event, { expiresAt: snapshot.expiresAt, source });
      if (source === 'local') post(tabMessageOf(snapshot, event, mode));
    },
    end(reason, broadcast) {
      epoch++;
      const had = state.current !== undefined;
      state.clear();
      timer.cancel();
      if (broadcast) post({ type: 'ended' });
      // A closed client is done with: it tells its handlers nothing more (a sign-out or a refusal after close()).
      if (closed) return;
      if (had || reason === 'logout' || reason === 'logout-everywhere')
        events.emit('session:ended', { reason });
    },
    onTabMessage(message) {
      if (closed) return;
      if (message.type === 'ended') {
        if (state.current !== undefined) lifecycle.end('other-tab', false);
        return;
      }
      const snapshot = {
        expiresAt: message.expiresAt,
        accessToken: message.accessToken,
        csrfToken: message.csrfToken ?? state.csrfToken,
      };
      if (mode === 'memory' && snapshot.accessToken === undefined) return;
      // Another tab signed in: a refresh of the session this tab held before must not touch the new one.
      if (message.type === 'started') epoch++;
      const event = state.current === undefined ? 'session:started' : 'session:refreshed';
      lifecycle.adopt(snapshot, event, 'other-tab');
    },
  };
  return lifecycle;
}

/** What the other tabs hear: the expiry, the CSRF token, and (memory mode only) the access token. */
function tabMessageOf(
  snapshot: SessionSnapshot,
  event: 'session:started' | 'session:refreshed',
  mode: DeliveryMode,
): TabMessage {
  return {
    type: event === 'session:started' ? 'started' : 'refreshed',
    expiresAt: snapshot.expiresAt,
    ...(mode === 'memory' && snapshot.accessToken !== undefined ? { accessToken: snapshot.accessToken } : {}),
    ...(snapshot.csrfToken !== undefined ? { csrfToken: snapshot.csrfToken } : {}),
  };
}
