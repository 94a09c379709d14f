/**
 * DPoP proofs take their `iat` from the helper's `clock` option, like its client assertions — at the token endpoint
 * and on calls to resource servers alike.
 */
import { describe, expect, it } from 'vitest';

import { createServiceClient } from '../src/index.js';

const TOKEN = 'https://auth.example.com/oauth/token';

function claimsOf(jwt: string | null): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

describe('DPoP proof iat', () => {
  it('comes from the clock option', async () => {
    const now = Date.UTC(2030, 0, 1, 12, 0, 0, 750);
    const proofs: (string | null)[] = [];
    const service = createServiceClient({
      issuer: 'https://auth.example.com',
      tokenEndpoint: TOKEN,
      clientId: 'billing',
      clientSecret: 's'.repeat(40),
      dpop: true,
      clock: () => now,
      fetch: (input, init) => {
        proofs.push(new Headers(init?.headers).get('dpop'));
        const body = { access_token: 't1', token_type: 'DPoP', expires_in: 900 };
        return Promise.resolve(input === TOKEN ? Response.json(body) : new Response('ok'));
      },
    });
    expect((await service.fetch('https://orders.internal/orders')).status).toBe(200);
    expect(proofs).toHaveLength(2);
    expect(proofs.map((proof) => claimsOf(proof).iat)).toEqual([
      Math.floor(now / 1000),
      Math.floor(now / 1000),
    ]);
  });
});
