/**
 * `renewBefore` and `timeout` follow the one rule for durations: a bare number is seconds, a string such as '2m'
 * goes through the shared parser, a bad value is a `TypeError` naming the option when the helper is built, and the
 * old millisecond names are refused with the new name rather than silently ignored.
 */
import { describe, expect, it } from 'vitest';

import { createServiceClient, type ServiceClientOptions } from '../src/index.js';
import type { FetchLike } from '../src/token-endpoint.js';

const BASE = {
  issuer: 'http://jot.test',
  clientId: 'billing',
  clientSecret: 'secret',
  tokenEndpoint: 'http://jot.test/oauth/token',
} as const;

/** A helper whose token endpoint hands out one-hour tokens, counting requests; `now` is its clock (epoch ms). */
function counted(options: Partial<ServiceClientOptions>): {
  requests: () => number;
  at: (ms: number) => Promise<string>;
} {
  let count = 0;
  let now = 0;
  const fetchImpl: FetchLike = () => {
    count += 1;
    return Promise.resolve(
      Response.json({ access_token: `token-${count}`, token_type: 'Bearer', expires_in: 3600 }),
    );
  };
  const service = createServiceClient({ ...BASE, ...options, fetch: fetchImpl, clock: () => now });
  return {
    requests: () => count,
    at: (ms) => {
      now = ms;
      return service.token();
    },
  };
}

/** Lets a background renewal finish. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('service duration options', () => {
  it.each([120, '2m', '120s'])(
    'renews a one-hour token 120 s before expiry for renewBefore %p',
    async (value) => {
      const helper = counted({ renewBefore: value });
      expect(await helper.at(0)).toBe('token-1');
      expect(await helper.at(3_479_000)).toBe('token-1');
      await settle();
      expect(helper.requests()).toBe(1);
      // The renewal starts in the background; the cached token is still served meanwhile.
      expect(await helper.at(3_480_000)).toBe('token-1');
      await settle();
      expect(helper.requests()).toBe(2);
      expect(await helper.at(3_480_000)).toBe('token-2');
    },
  );

  it('renews 60 s before expiry by default', async () => {
    const helper = counted({});
    await helper.at(0);
    expect(await helper.at(3_539_000)).toBe('token-1');
    await settle();
    expect(helper.requests()).toBe(1);
    await helper.at(3_540_000);
    await settle();
    expect(helper.requests()).toBe(2);
    expect(await helper.at(3_540_000)).toBe('token-2');
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '5 parsecs', '', 'soon'])(
    'refuses renewBefore and timeout %p with a TypeError naming the option',
    (value) => {
      expect(() => createServiceClient({ ...BASE, renewBefore: value })).toThrow(
        /service: "renewBefore": invalid duration/,
      );
      expect(() => createServiceClient({ ...BASE, timeout: value })).toThrow(
        /service: "timeout": invalid duration/,
      );
    },
  );

  it('refuses the old millisecond names, saying the new ones', () => {
    const old = (extra: object): ServiceClientOptions => ({ ...BASE, ...extra });
    expect(() => createServiceClient(old({ renewBeforeMs: 60_000 }))).toThrow(
      new TypeError(
        'service: "renewBeforeMs" was renamed "renewBefore" (a number of seconds or a string such as "5s")',
      ),
    );
    expect(() => createServiceClient(old({ timeoutMs: 5000 }))).toThrow(/"timeoutMs" was renamed "timeout"/);
  });
});
