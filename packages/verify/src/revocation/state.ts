/**
 * The in-memory copy of the revocation list: three maps keyed by `jti`, `sid` and user id, each entry carrying
 * the epoch second after which it no longer matters. Lookups are O(1) whatever the size, and a token that is not
 * revoked is told so by each map's compact hash filter without touching the map (filtered-map.ts), so a large
 * list that does not fit in the CPU caches costs little more per check than a small one. Expiry times are stored
 * relative to `EPOCH_BASE` so they fit V8's small integers and cost no heap number per entry.
 */
import { isRevocationKind, type FeedEntry } from '@jot/contract';

import type { AccessTokenClaims } from '../types.js';
import { FilteredMap } from './filtered-map.js';
import { checkRevocationFacts, userRule, type UserRule } from './rules.js';

/** A feed entry as the Jot server publishes it (`GET /api/revocations`, SSE `revocation` events). */
export type { FeedEntry };

/** Per-user state of a `user` entry: its rule (rules.ts) and when the entry stops mattering. */
interface UserState extends UserRule {
  /** Relative to EPOCH_BASE. */
  expires: number;
}

/** 2023-11-14: stored expiries are seconds after this, small enough to be V8 Smis until 2057. */
const EPOCH_BASE = 1_700_000_000;

/** Entry counts by kind. */
export interface RevocationCounts {
  readonly jti: number;
  readonly sid: number;
  readonly user: number;
}

/** Parses an untrusted feed entry; undefined when it is malformed. */
export function parseFeedEntry(value: unknown): FeedEntry | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  // The contract's members, each still unchecked: a renamed member fails to compile here.
  const entry: Partial<Record<keyof FeedEntry, unknown>> = value;
  const { kind, subject, expires_at: expiresAt } = entry;
  if (!isRevocationKind(kind)) return undefined;
  if (typeof subject !== 'string' || subject.length === 0) return undefined;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return undefined;
  const data =
    typeof entry.data === 'object' && entry.data !== null ? (entry.data as Record<string, unknown>) : {};
  return { id: String(entry.id), kind, subject, data, expires_at: expiresAt };
}

/**
 * The revocation facts, checkable against verified claims.
 *
 * @example
 * const state = new RevocationState();
 * state.apply({ id: '1', kind: 'sid', subject: 'sess-1', data: {}, expires_at: exp });
 * state.check(claims, Math.floor(Date.now() / 1000)); // throws ERR_TOKEN_REVOKED (reason 'session')
 */
export class RevocationState {
  readonly #jti = new FilteredMap<number>();
  readonly #sid = new FilteredMap<number>();
  readonly #user = new FilteredMap<UserState>();

  /** Adds one entry; a later `user` entry replaces the earlier state of that user. */
  apply(entry: FeedEntry): void {
    const expires = Math.ceil(entry.expires_at) - EPOCH_BASE;
    if (entry.kind === 'jti' || entry.kind === 'sid') {
      const map = entry.kind === 'jti' ? this.#jti : this.#sid;
      const previous = map.get(entry.subject);
      map.set(entry.subject, previous === undefined ? expires : Math.max(previous, expires));
      return;
    }
    const previous = this.#user.get(entry.subject);
    const { validAfter, ver, disabled } = userRule(entry.data);
    // A literal, not a spread: every entry then shares one shape with its four fields in the object (a spread
    // left `expires` in a separate properties array: ~200 more bytes per user entry).
    this.#user.set(entry.subject, {
      validAfter,
      ver,
      disabled,
      expires: previous === undefined ? expires : Math.max(previous.expires, expires),
    });
  }

  /** Throws the `VerifyError` for the first revocation that applies to these claims at `now` (epoch seconds). */
  check(claims: AccessTokenClaims, now: number): void {
    const at = now - EPOCH_BASE;
    const jti = this.#jti.get(claims.jti);
    const sid = claims.sid === undefined ? undefined : this.#sid.get(claims.sid);
    const user = this.#user.get(claims.sub);
    // Nearly every token is in no map: that answer needs no rule.
    if (jti === undefined && sid === undefined && user === undefined) return;
    checkRevocationFacts(
      claims,
      jti !== undefined && jti > at,
      sid !== undefined && sid > at,
      user !== undefined && user.expires > at ? user : undefined,
    );
  }

  /** Drops entries expired at `now` (epoch seconds); returns how many. */
  prune(now: number): number {
    const at = now - EPOCH_BASE;
    return (
      this.#jti.deleteWhere((expires) => expires <= at) +
      this.#sid.deleteWhere((expires) => expires <= at) +
      this.#user.deleteWhere((user) => user.expires <= at)
    );
  }

  /** Bytes of the maps' hash filters, which live outside the JS heap (typed arrays). */
  filterBytes(): number {
    return this.#jti.filterBytes + this.#sid.filterBytes + this.#user.filterBytes;
  }

  /** Entry counts by kind. */
  counts(): RevocationCounts {
    return { jti: this.#jti.size, sid: this.#sid.size, user: this.#user.size };
  }
}
