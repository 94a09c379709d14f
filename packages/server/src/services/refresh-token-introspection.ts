/**
 * RFC 7662 introspection of a refresh token: what the token is, if it is still usable — the current (not rotated)
 * token of a live session of an active user — and asked about by the client it was issued to. RFC 7662 §2.2 lets
 * the server answer `active: false` to a caller that may not see a token, so any other caller learns nothing.
 */
import type { Clock } from '../clock.js';
import type { Session, Store } from '../store/index.js';
import { scopeText, type ScopePolicy } from './scopes.js';
import { hashSecret } from './secrets.js';
import { isSessionLive } from './sessions.js';

/** Refresh tokens are 256-bit secrets: anything much longer is not one, and is not hashed and looked up. */
const MAX_REFRESH_TOKEN_LENGTH = 512;

/** What introspection uses. */
export interface RefreshIntrospectionDeps {
  store: Store;
  clock: Clock;
  scopes: ScopePolicy;
}

/** An active refresh token: its session, the scope its access tokens get, and when it was issued (epoch ms). */
export interface LiveRefreshToken {
  session: Session;
  scope: string | undefined;
  issuedAt: number;
}

/**
 * The refresh token `token` if it is active for the caller `clientId` (undefined for a resource server, which may
 * introspect access tokens only); otherwise undefined.
 */
export async function liveRefreshToken(
  deps: RefreshIntrospectionDeps,
  token: string,
  clientId: string | undefined,
): Promise<LiveRefreshToken | undefined> {
  const { store, clock, scopes } = deps;
  if (clientId === undefined || token.length > MAX_REFRESH_TOKEN_LENGTH) return undefined;
  const record = await store.getRefreshToken(hashSecret(token));
  if (record === undefined || record.rotatedAt !== null) return undefined;
  const session = await store.getSession(record.sessionId);
  if (session === undefined || session.clientId !== clientId || !isSessionLive(session, clock())) {
    return undefined;
  }
  const user = await store.getUserById(session.userId);
  if (user === undefined || user.status !== 'active') return undefined;
  const scope = scopeText(await scopes.forUser(user.roles, session.clientId));
  return { session, scope, issuedAt: record.createdAt };
}
