/**
 * Asymmetric signatures on libuv's thread pool: the same verdicts inline and offloaded, the `'auto'` policy's
 * switch (inline when idle, offloaded while the loop is busy or offloaded checks are pending), and the verification
 * cache being on by default.
 */
import { describe, expect, it } from 'vitest';

import { createOffloadPolicy, SAMPLE_INTERVAL_MS } from '../src/offload.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';
import { codeOf } from './support/outcome.js';
import { waitFor } from './support/wait.js';

const harness = useIssuerVerifier();
const build = harness.build;

/** Flips one bit of the signature, keeping its length. */
function tamper(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const bytes = Buffer.from(s, 'base64url');
  bytes[bytes.length >> 1]! ^= 0x01;
  return `${h}.${p}.${bytes.toString('base64url')}`;
}

describe('offloaded signature checks', () => {
  for (const offload of ['never', 'always'] as const) {
    it(`gives the same verdicts with offload: '${offload}' (valid, tampered, expired, wrong typ)`, async () => {
      const v = build({ offload, cache: false });
      await v.ready();
      const now = Math.floor(Date.now() / 1000);
      expect((await v.verify(harness.issuer.tokens.sign())).sub).toBeTypeOf('string');
      expect(await codeOf(v.verify(tamper(harness.issuer.tokens.sign())))).toBe('ERR_JWS_SIGNATURE_INVALID');
      expect(await codeOf(v.verify(harness.issuer.tokens.sign({ iat: now - 7200, exp: now - 3600 })))).toBe(
        'ERR_JWT_EXPIRED',
      );
      expect(await codeOf(v.verify(harness.issuer.tokens.sign({}, { typ: 'JWT' })))).toMatch(/^ERR_/);
      const { offloaded, inline } = v.stats().offload;
      expect(offload === 'always' ? [offloaded, inline] : [inline, offloaded]).toEqual([4, 0]);
    });
  }

  it('verifies a token signed by a key rotated in after start on the pool too (unknown kid → refetch)', async () => {
    const v = build({ offload: 'always', cache: false, jwks: { cooldown: 0 } });
    await v.ready();
    const key = harness.issuer.tokens.rotate({ activate: true });
    expect((await v.verify(harness.issuer.tokens.sign({}, { key }))).sub).toBeTypeOf('string');
  });

  it('refuses an unknown offload mode when the verifier is built', () => {
    expect(() => build({ offload: 'sometimes' as never })).toThrow(TypeError);
  });
});

describe("the 'auto' policy", () => {
  it('stays inline while the event loop is idle', () => {
    const policy = createOffloadPolicy('auto', () => 0.1);
    expect([policy.shouldOffload(), policy.shouldOffload()]).toEqual([false, false]);
    policy.close();
  });

  it('offloads once a sample shows a busy loop, and goes back inline when it is idle and nothing is pending', async () => {
    let utilization = 0.9;
    const policy = createOffloadPolicy('auto', () => utilization);
    policy.shouldOffload(); // starts the sampler
    await waitFor(() => policy.shouldOffload(), 20 * SAMPLE_INTERVAL_MS, 'offloading under load');
    utilization = 0.05;
    await waitFor(() => !policy.shouldOffload(), 20 * SAMPLE_INTERVAL_MS, 'inline again when idle');
    policy.close();
  });

  it('keeps offloading while offloaded checks are pending, whatever the last sample said', async () => {
    const policy = createOffloadPolicy('auto', () => 0);
    policy.started();
    expect(policy.shouldOffload()).toBe(true);
    policy.settled();
    expect(policy.shouldOffload()).toBe(false);
    expect(policy.stats()).toEqual({ offloaded: 1, inline: 1 });
    policy.close();
  });
});

describe('verification cache default', () => {
  it('is on by default and still checks revocation on a hit', async () => {
    const v = build({ revocation: 'none' });
    await v.ready();
    const token = harness.issuer.tokens.sign();
    await v.verify(token);
    await v.verify(token);
    expect(v.stats().cache).toMatchObject({ size: 1, hits: 1 });
  });

  it('is off with cache: false', async () => {
    const v = build({ cache: false });
    await v.ready();
    await v.verify(harness.issuer.tokens.sign());
    expect(v.stats().cache).toBeUndefined();
  });
});
