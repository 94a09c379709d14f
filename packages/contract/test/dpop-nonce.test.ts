/** `asksForDPoPNonce`: which answers ask a DPoP client for a nonce (RFC 9449 §8 token endpoint, §9 resource). */
import { describe, expect, it } from 'vitest';

import { asksForDPoPNonce } from '../src/index.js';

function answer(status: number, headers: Record<string, string>, body?: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers });
}

describe('asksForDPoPNonce', () => {
  it('a resource server 401 with the challenge and a DPoP-Nonce asks', async () => {
    const res = answer(401, {
      'dpop-nonce': 'n1',
      'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="fresh nonce"',
    });
    expect(await asksForDPoPNonce(res)).toBe(true);
  });

  it('a token endpoint 400 with use_dpop_nonce in the body asks, and the body stays readable', async () => {
    const res = answer(
      400,
      { 'dpop-nonce': 'n1', 'content-type': 'application/json' },
      { error: 'use_dpop_nonce' },
    );
    expect(await asksForDPoPNonce(res)).toBe(true);
    expect(await res.json()).toEqual({ error: 'use_dpop_nonce' });
  });

  it('does not ask without the DPoP-Nonce header, with another error, or with another status', async () => {
    expect(await asksForDPoPNonce(answer(400, {}, { error: 'use_dpop_nonce' }))).toBe(false);
    expect(await asksForDPoPNonce(answer(400, { 'dpop-nonce': 'n1' }, { error: 'invalid_dpop_proof' }))).toBe(
      false,
    );
    expect(await asksForDPoPNonce(answer(400, { 'dpop-nonce': 'n1' }, undefined))).toBe(false);
    expect(await asksForDPoPNonce(answer(200, { 'dpop-nonce': 'n1' }, { error: 'use_dpop_nonce' }))).toBe(
      false,
    );
  });
});
