/**
 * The revocation feed: what the server publishes and resource servers (`@jot/verify`) replicate —
 * `GET /api/revocations` pages, `GET /api/revocations/stream` Server-Sent Events, and the Redis mirror's values.
 * Times are epoch seconds.
 */

/** What an entry revokes: one token (`jti`), one session (`sid`) or every token of a user up to a cut-off. */
export type RevocationKind = 'jti' | 'sid' | 'user';

/** Every {@link RevocationKind}, for parsers. */
export const REVOCATION_KINDS: readonly RevocationKind[] = ['jti', 'sid', 'user'];

/** Whether `value` is a {@link RevocationKind} (for parsing untrusted feed entries). */
export function isRevocationKind(value: unknown): value is RevocationKind {
  return REVOCATION_KINDS.includes(value as RevocationKind);
}

/** Per-user state, the `data` of a `user` entry and the value of its Redis key. */
export interface UserRevocationState {
  /** Tokens need `iat > valid_after` (epoch seconds); 0 = no cut-off. */
  valid_after: number;
  /** Tokens need `ver >= ver`. */
  ver: number;
  status: 'active' | 'disabled';
}

/** One feed entry. */
export interface FeedEntry {
  /** The entry's id, as a decimal string (the stream's event `id` is its cursor, which also names the entry). */
  id: string;
  kind: RevocationKind;
  /** The jti, sid or user id. */
  subject: string;
  /** For `user` entries: a {@link UserRevocationState}; `{}` otherwise. */
  data: Record<string, unknown>;
  /** Epoch seconds after which the entry no longer matters and can be dropped. */
  expires_at: number;
}

/** One page of `GET /api/revocations`. */
export interface FeedPage {
  entries: FeedEntry[];
  /**
   * Pass as `?since=` for the next page, unchanged: `<id>.<tag>.<created>`, where the tag and the entry's creation
   * time tell an entry of this history of the issuer's database from one that reused its id after a restore (such a
   * cursor is answered with a snapshot, also once its entry was pruned). Treat it as opaque; `<id>.<tag>` and a bare
   * `<id>` (as issued by earlier releases) are still taken. It goes back as `Last-Event-ID` too: 1–1024 visible ASCII
   * characters, or `@jot/verify` refuses it.
   */
  cursor: string;
  /** More entries are waiting: ask again at once with `cursor`. */
  has_more: boolean;
  /** The page is a full snapshot of every live entry: replace local state with it. */
  snapshot: boolean;
}

/**
 * Seconds an entry stays on the feed (and in the Redis mirror) beyond what the server's own clock tolerance needs:
 * a `jti` entry until the token's `exp` plus the server's tolerance plus this, a session or user entry likewise. A
 * verifier accepts a token until `exp` plus its own `clockTolerance`, so with a tolerance up to this it still finds
 * the entry of every revoked token it would otherwise accept, whatever the server's `JOT_CLOCK_TOLERANCE`.
 */
export const FEED_RETENTION_SLACK_SECONDS = 60;

/** The largest page `GET /api/revocations` returns. */
export const FEED_PAGE_SIZE = 1000;

/** The `event:` names of the revocation stream. */
export const FEED_EVENTS = {
  /** `data`: a {@link FeedEntry}; `id`: its cursor (see {@link FeedPage.cursor}). */
  revocation: 'revocation',
  /** `data`: {@link FeedResetData}. The entries that follow are a snapshot: replace local state. */
  reset: 'reset',
  /** `data`: {@link FeedShutdownData}. The server is draining: reconnect elsewhere within the `retry:` hint. */
  shutdown: 'shutdown',
} as const;

/** A revocation-stream event name. */
export type FeedEventName = (typeof FEED_EVENTS)[keyof typeof FEED_EVENTS];

/** The `data` of a `reset` event. */
export interface FeedResetData {
  cursor: string;
}

/** The `data` of a `shutdown` event. */
export interface FeedShutdownData {
  reason: 'shutdown';
}

/** The JSON `data` of each revocation-stream event. */
export interface FeedEventData {
  revocation: FeedEntry;
  reset: FeedResetData;
  shutdown: FeedShutdownData;
}
