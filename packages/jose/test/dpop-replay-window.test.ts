/**
 * RFC 9449 §11.1: a proof's `jti` is remembered for as long as the proof itself is acceptable. `iat` is checked in
 * whole seconds with the clock tolerance, so a proof from a client whose clock runs ahead stays acceptable until the
 * end of the second `iat + maxAge + tolerance`; its replay must be refused until then.
 */
import { describe, expect, it } from 'vitest';

import { createDPoPChecker, createDPoPProof, generateKeyPair, memoryReplayStore } from '../src/index.js';

describe('DPoP replay window', () => {
  const S = 1_800_000_000; // epoch seconds
  const url = 'https://api.example.com/orders';

  it('refuses a replay for as long as the proof is acceptable, a client clock ahead included', async () => {
    let nowMs = S * 1000; // the first use, at the very start of second S
    const clock = (): number => nowMs;
    const dpop = createDPoPChecker({
      replay: memoryReplayStore({ clock }),
      clock,
      maxAge: 60,
      clockTolerance: 5,
    });
    const key = generateKeyPair('ES256');
    // A client clock 5 s ahead (within tolerance): iat = S + 5.
    const proof = createDPoPProof(key, { htm: 'GET', htu: url, iat: S + 5 });
    await dpop.check({ method: 'GET', url, proof });
    // S + 70.999: iat (S + 5) >= floor(now) (S + 70) - maxAge (60) - tolerance (5), still acceptable by iat.
    nowMs = (S + 70) * 1000 + 999;
    await expect(dpop.check({ method: 'GET', url, proof })).rejects.toMatchObject({
      code: 'ERR_DPOP_PROOF_REPLAYED',
    });
    // One second on, the proof is too old whatever the replay store remembers.
    nowMs = (S + 71) * 1000;
    await expect(dpop.check({ method: 'GET', url, proof })).rejects.toMatchObject({
      code: 'ERR_DPOP_PROOF_INVALID',
    });
  });
});
