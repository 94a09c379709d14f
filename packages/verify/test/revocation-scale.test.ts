/**
 * The revocation copy at 1 M entries: lookups still answer correctly for hits and misses of every kind, and
 * pruning drops exactly the expired ones. Correctness only: memory and lookup times are the benchmark's
 * (bench/revocation.js), never timed here.
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
    expect(state.counts()).toEqual({ jti: 600_000, sid: 300_000, user: 100_000 });

    const key = (kind: string, i: number) => `${kind}-${i.toString(36)}-${'x'.repeat(12)}`;
    expect(codeOf(state, claims({ jti: key('jti', 1) }))).toBe('ERR_TOKEN_REVOKED');
    expect(codeOf(state, claims({ sid: key('sid', 7) }))).toBe('ERR_TOKEN_REVOKED');
    expect(codeOf(state, claims({ sub: key('user', 9), ver: 1 }))).toBe('ERR_TOKEN_REVOKED');
    expect(codeOf(state, claims({ sub: key('user', 9), ver: 2 }))).toBe('ok');
    expect(codeOf(state, claims({ jti: key('jti', 10) }))).toBe('ok'); // expired entry: no longer matters
    expect(codeOf(state, claims({ jti: 'never-revoked' }))).toBe('ok');
    expect(codeOf(state, claims({ jti: '__proto__', sid: 'constructor', sub: 'toString' }))).toBe('ok');

    // Live entries of every kind (a sample: each refusal builds an error) are found, and still are after pruning
    // removed 100 k others from the tables (their Bloom bits stay set until a rebuild: key-filter.ts).
    const STRIDE = 37;
    const refusedSample = (): number => {
      let refused = 0;
      for (let i = 1; i < N; i += STRIDE) {
        if (i % 10 === 0) continue;
        const kind = i % 10 < 6 ? 'jti' : i % 10 < 9 ? 'sid' : 'user';
        const at =
          kind === 'jti'
            ? { jti: key(kind, i) }
            : kind === 'sid'
              ? { sid: key(kind, i) }
              : { sub: key(kind, i) };
        if (codeOf(state, claims(at)) === 'ERR_TOKEN_REVOKED') refused += 1;
      }
      return refused;
    };
    let live = 0;
    for (let i = 1; i < N; i += STRIDE) if (i % 10 !== 0) live += 1;
    expect(refusedSample()).toBe(live);
    expect(state.prune(NOW)).toBe(100_000);
    expect(state.counts()).toEqual({ jti: 500_000, sid: 300_000, user: 100_000 });
    expect(refusedSample()).toBe(live);
    for (let i = 0; i < N; i += 10 * STRIDE) expect(codeOf(state, claims({ jti: key('jti', i) }))).toBe('ok');
  }, 60_000);
});
