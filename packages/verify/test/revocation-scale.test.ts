/**
 * The revocation copy at 1 M entries: lookups still answer correctly for hits and misses of every kind, and
 * pruning drops exactly the expired ones. Correctness only; memory and lookup times are printed, not asserted.
 */
import { describe, expect, it } from 'vitest';

import { isVerifyError, type AccessTokenClaims } from '../src/index.js';
import { RevocationState } from '../src/revocation/state.js';

const N = 1_000_000;
const NOW = 1_800_000_000;

function claims(overrides: Partial<AccessTokenClaims>): AccessTokenClaims {
  return {
    iss: 'i',
    sub: 'nobody',
    aud: 'a',
    exp: NOW + 60,
    iat: NOW - 10,
    jti: 'none',
    sid: 'none',
    ver: 1,
    auth_time: NOW - 10,
    roles: [],
    ...overrides,
  };
}

function codeOf(state: RevocationState, c: AccessTokenClaims): string {
  try {
    state.check(c, NOW);
    return 'ok';
  } catch (err) {
    if (isVerifyError(err)) return err.code;
    throw err;
  }
}

describe('revocation state at scale', () => {
  it('holds 1 M entries with correct lookups and pruning', () => {
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const state = new RevocationState();
    // 60% jti, 30% sid, 10% user — a plausible mix; every 10th entry is already expired.
    for (let i = 0; i < N; i += 1) {
      const expires_at = i % 10 === 0 ? NOW - 1 : NOW + 900;
      const kind = i % 10 < 6 ? 'jti' : i % 10 < 9 ? 'sid' : 'user';
      const data = kind === 'user' ? { valid_after: NOW - 100, ver: 2, status: 'active' } : {};
      state.apply({
        id: String(i),
        kind,
        subject: `${kind}-${i.toString(36)}-${'x'.repeat(12)}`,
        data,
        expires_at,
      });
    }
    globalThis.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    expect(state.counts()).toEqual({ jti: 600_000, sid: 300_000, user: 100_000 });

    const key = (kind: string, i: number) => `${kind}-${i.toString(36)}-${'x'.repeat(12)}`;
    expect(codeOf(state, claims({ jti: key('jti', 1) }))).toBe('ERR_TOKEN_REVOKED');
    expect(codeOf(state, claims({ sid: key('sid', 7) }))).toBe('ERR_TOKEN_REVOKED');
    expect(codeOf(state, claims({ sub: key('user', 9), ver: 1 }))).toBe('ERR_TOKEN_REVOKED');
    expect(codeOf(state, claims({ sub: key('user', 9), ver: 2 }))).toBe('ok');
    expect(codeOf(state, claims({ jti: key('jti', 10) }))).toBe('ok'); // expired entry: no longer matters
    expect(codeOf(state, claims({ jti: 'never-revoked' }))).toBe('ok');
    expect(codeOf(state, claims({ jti: '__proto__', sid: 'constructor', sub: 'toString' }))).toBe('ok');

    const lookups = 1_000_000;
    const probe = [claims({ jti: 'miss-1' }), claims({ sid: key('sid', 8) }), claims({ jti: key('jti', 3) })];
    const started = process.hrtime.bigint();
    let rejected = 0;
    for (let i = 0; i < lookups; i += 1) {
      try {
        state.check(probe[i % 3]!, NOW);
      } catch {
        rejected += 1;
      }
    }
    const nsPerLookup = Number(process.hrtime.bigint() - started) / lookups;
    expect(rejected).toBe(Math.floor((lookups * 2) / 3) + (lookups % 3 === 2 ? 1 : 0));

    const missStarted = process.hrtime.bigint();
    const miss = claims({ jti: 'miss-2' });
    for (let i = 0; i < lookups; i += 1) state.check(miss, NOW);
    const nsPerMiss = Number(process.hrtime.bigint() - missStarted) / lookups;

    const pruneStarted = process.hrtime.bigint();
    expect(state.prune(NOW)).toBe(100_000);
    const pruneMs = Number(process.hrtime.bigint() - pruneStarted) / 1e6;
    expect(state.counts()).toEqual({ jti: 500_000, sid: 300_000, user: 100_000 });
    console.log(
      `[revocation-scale] ${N} entries: heap +${((heapAfter - heapBefore) / 2 ** 20).toFixed(0)} MiB ` +
        `(${Math.round((heapAfter - heapBefore) / N)} B/entry${globalThis.gc ? '' : ', without --expose-gc'}); ` +
        `check ${nsPerMiss.toFixed(0)} ns (not revoked: 3 map lookups), ${nsPerLookup.toFixed(0)} ns mixed ` +
        `(2/3 revoked, each building a VerifyError); prune ${pruneMs.toFixed(0)} ms`,
    );
  }, 60_000);
});
