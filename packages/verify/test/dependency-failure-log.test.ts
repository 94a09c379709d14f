/**
 * A dependency that fails on every request (the DPoP replay store on Redis down) must not flood the log: a verifier
 * logs the first failure of an outage at error level with its cause, counts the repeats (one line per minute at
 * most while it lasts), and logs once when the dependency works again with how many requests were refused. Before,
 * every refused request logged an error line.
 */
import { beforeEach, describe, expect, it } from 'vitest';

import { createDPoPProof, generateKeyPair } from '@jot/jose';

import type { Verifier } from '../src/index.js';
import { FAILURE_REPORT_INTERVAL_MS, FAILURE_SETTLE_MS } from '../src/failure-log.js';
import { dataLogger, type DataLogger } from './support/data-logger.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';

const key = generateKeyPair('ES256');
const harness = useIssuerVerifier();
let verifier: Verifier;
let logger: DataLogger;
let now: number;
/** Whether the replay store (Redis) answers. */
let redisDown: boolean;

beforeEach(async () => {
  now = Date.now();
  redisDown = false;
  logger = dataLogger();
  verifier = harness.build({
    logger,
    clock: () => now,
    dpop: {
      replay: {
        redis: {
          set: () =>
            redisDown
              ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'))
              : Promise.resolve('OK'),
        },
      },
    },
  });
  await verifier.ready();
});

/** One request with a DPoP-bound token and a fresh proof (its replay check goes to the store); its status. */
async function boundRequest(): Promise<number> {
  const iat = Math.floor(now / 1000);
  const token = harness.issuer.tokens.sign({ cnf: { jkt: key.thumbprint() }, iat, exp: iat + 600 });
  const proof = createDPoPProof(key, { htm: 'GET', htu: 'http://api.example/me', accessToken: token, iat });
  const result = await verifier.authenticate({
    method: 'GET',
    url: '/me',
    headers: { host: 'api.example', authorization: `DPoP ${token}`, dpop: proof },
  });
  return result.ok ? 200 : result.response.status;
}

/** One request with an unbound Bearer token: the DPoP step lets it through without asking the store. */
async function unboundRequest(): Promise<number> {
  const iat = Math.floor(now / 1000);
  const token = harness.issuer.tokens.sign({ iat, exp: iat + 600 });
  const result = await verifier.authenticate({
    method: 'GET',
    headers: { authorization: `Bearer ${token}` },
  });
  return result.ok ? 200 : result.response.status;
}

async function times(n: number, request: () => Promise<number>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i += 1) statuses.push(await request());
  return statuses;
}

describe('a dependency outage in the logs', () => {
  it('logs its first failure with the cause, counts the repeats, and logs once when it works again', async () => {
    redisDown = true;
    expect(new Set(await times(50, boundRequest))).toEqual(new Set([503]));
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({
      level: 'error',
      message: expect.stringMatching(/its dpop step failed/),
      data: { step: 'dpop', error: expect.stringMatching(/ECONNREFUSED/), refused: 1 },
    });
    expect(verifier.stats().rejections).toEqual({ ERR_VERIFY_UNAVAILABLE: 50 });

    // Unbound tokens pass the DPoP step without asking the store: no evidence that it works again.
    now += FAILURE_SETTLE_MS;
    expect(await times(3, unboundRequest)).toEqual([200, 200, 200]);
    expect(logger.lines).toHaveLength(1);

    // A long outage is reminded of, at most once per interval, with the refusals since the last line.
    now += FAILURE_REPORT_INTERVAL_MS;
    expect(await times(10, boundRequest)).toEqual(Array(10).fill(503));
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[1]).toMatchObject({
      level: 'error',
      message: expect.stringMatching(/dpop step .* is still failing/),
      data: { step: 'dpop', error: expect.stringMatching(/ECONNREFUSED/), refused: 50 },
    });

    redisDown = false;
    now += FAILURE_SETTLE_MS;
    expect(await times(20, boundRequest)).toEqual(Array(20).fill(200));
    expect(logger.lines).toHaveLength(3);
    expect(logger.lines[2]).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(/dpop step .* works again; 60 request\(s\) were refused/),
      data: { step: 'dpop', refused: 60, lastError: expect.stringMatching(/ECONNREFUSED/) },
    });

    // The next outage is a new one: logged at once with its cause.
    now += FAILURE_REPORT_INTERVAL_MS;
    redisDown = true;
    expect(await times(5, boundRequest)).toEqual(Array(5).fill(503));
    expect(logger.lines).toHaveLength(4);
    expect(logger.lines[3]).toMatchObject({ level: 'error', data: { step: 'dpop', refused: 1 } });
  });

  it('a dependency failing one request in three stays one outage: no start and end logged per request', async () => {
    let calls = 0;
    const flaky = harness.build({
      logger,
      clock: () => now,
      dpop: {
        replay: {
          redis: {
            set: () =>
              ++calls % 3 === 0 ? Promise.reject(new Error('Command timed out')) : Promise.resolve('OK'),
          },
        },
      },
    });
    verifier = flaky;
    await flaky.ready();
    const statuses: number[] = [];
    for (let i = 0; i < 300; i += 1) {
      now += 1000; // five minutes of traffic, one request a second
      statuses.push(await boundRequest());
    }
    expect(statuses.filter((s) => s === 503)).toHaveLength(100);
    // One line when it started, then one per interval: never a line per refusal, never "works again".
    expect(logger.lines.every((line) => line.level === 'error')).toBe(true);
    expect(logger.lines.length).toBeLessThanOrEqual(1 + 300_000 / FAILURE_REPORT_INTERVAL_MS);
    const refused = logger.lines.reduce((sum, line) => sum + Number(line.data?.refused), 0);
    expect(refused).toBeLessThanOrEqual(100);
  });
});
