/**
 * Which refresh failures the timer retries (refresh-retry.ts): no answer, an answer that is not JSON at all (a
 * proxy's or captive portal's page: the server's answer may have been lost on the way), 429 and 5xx — but not the
 * server's own JSON with a bad field, which would fail the same way forever.
 */
import { describe, expect, it } from 'vitest';

import { JotClientError, jsonOf } from '../src/errors.js';
import { transientFailure } from '../src/refresh-retry.js';

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('transient refresh failures', () => {
  it('a 200 page that is not JSON is retried', async () => {
    const err = await failureOf(jsonOf(new Response('<html>portal</html>', { status: 200 })));
    expect(err).toMatchObject({ code: 'ERR_CLIENT_BAD_RESPONSE' });
    expect(transientFailure(err)).toEqual({ retryAfterMs: undefined });
  });

  it('the server’s JSON with a field the client cannot use is not retried', () => {
    const err = new JotClientError('ERR_CLIENT_BAD_RESPONSE', 'the token response has no valid expires_in', {
      status: 200,
    });
    expect(transientFailure(err)).toBeUndefined();
  });

  it('no answer, 429 (with its Retry-After) and 5xx are retried; 4xx refusals are not', () => {
    expect(transientFailure(new JotClientError('ERR_CLIENT_NETWORK', 'offline'))).toBeDefined();
    expect(
      transientFailure(new JotClientError('ERR_RATE_LIMITED', 'slow down', { status: 429, retryAfter: 3 })),
    ).toEqual({ retryAfterMs: 3000 });
    expect(transientFailure(new JotClientError('ERR_UNAVAILABLE', 'down', { status: 503 }))).toBeDefined();
    expect(
      transientFailure(new JotClientError('ERR_REFRESH_TOKEN_INVALID', 'spent', { status: 401 })),
    ).toBeUndefined();
  });
});
