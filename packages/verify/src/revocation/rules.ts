/**
 * The revocation rules over one token's facts — is its `jti` revoked, is its session, what does its user's entry
 * say — as both the replicated copy (state.ts, from its maps) and the `redis` strict strategy (redis.ts, from one
 * MGET) find them. One function decides for both, so the strategies cannot drift apart on rules, codes or reasons,
 * and the Redis path checks a token without building maps or hashing keys.
 */
import { tokenRevoked } from '../errors.js';
import type { AccessTokenClaims } from '../types.js';

/** What a `user` entry says (Jot's own): tokens need `iat > validAfter`, `ver >= ver`, and an active user. */
export interface UserRule {
  validAfter: number;
  ver: number;
  disabled: boolean;
}

/** The rule in a `user` entry's untrusted data: non-numbers count as 0 (no cut-off, no version floor). */
export function userRule(data: Readonly<Record<string, unknown>>): UserRule {
  const { valid_after: validAfter, ver, status } = data;
  return {
    validAfter: typeof validAfter === 'number' && Number.isFinite(validAfter) ? validAfter : 0,
    ver: typeof ver === 'number' && Number.isFinite(ver) ? ver : 0,
    disabled: status === 'disabled',
  };
}

/**
 * Throws the `VerifyError` for the first revocation that applies — the token's `jti`, then its session, then its
 * user — given entries that apply now (the caller has dropped expired ones); returns when none does.
 */
export function checkRevocationFacts(
  claims: AccessTokenClaims,
  jtiRevoked: boolean,
  sidRevoked: boolean,
  user: UserRule | undefined,
): void {
  if (jtiRevoked) throw tokenRevoked('jti');
  if (sidRevoked) throw tokenRevoked('session');
  if (user === undefined) return;
  if (user.disabled) throw tokenRevoked('disabled');
  if (claims.iat <= user.validAfter) throw tokenRevoked('cutoff');
  if (claims.ver !== undefined && claims.ver < user.ver) throw tokenRevoked('version');
}
