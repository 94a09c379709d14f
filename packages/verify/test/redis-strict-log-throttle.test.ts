/**
 * The log of a strict revocation check that flips between refusing and answering. During a rolling upgrade servers
 * of two versions renew the Redis marker in turn, so a verifier given a deployment id is refused and answered in turn
 * (about once a second) — and it logged a warning and a "reachable again" line on every flip. Now: at most one
 * warning per reason a minute (by the verifier's clock), the next line logged says how many episodes and recoveries
 * were not, a recovery after a logged warning is always logged, and a check that keeps refusing is logged again once
 * the minute is over — the throttle never leaves the log saying the opposite of what the check does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Verifier, VerifierOptions } from '../src/index.js';
import { dataLogger, type DataLogger } from './support/data-logger.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';
import { outcomeOf } from './support/outcome.js';

const OWN = 'AAAAaaaa0000____';
const marker = (deployment?: string): string =>
  JSON.stringify({ cursor: 7, at: 1_700_000_000_000, ...(deployment === undefined ? {} : { deployment }) });
/** The marker of this verifier's deployment, of a server of an earlier version (no id), and an unreadable one. */
const TRUSTED = marker(OWN);
const EARLIER = marker();
const UNREADABLE = 'not json';

const harness = useIssuerVerifier();

/**
 * The verifier's clock: stopped at the time it is made, moved only by the test (the tokens' `iat` is real time, within
 * the verifier's 5 s tolerance; they are signed to outlive the time added).
 */
function fakeClock(): { clock: () => number; advance(ms: number): void } {
  let now = Date.now();
  return { clock: () => now, advance: (ms) => void (now += ms) };
}

function build(revocation: VerifierOptions['revocation'], clock: () => number, logger: DataLogger): Verifier {
  return harness.build({ revocation, clock, logger });
}

/** `accepted`, or the code and reason of the refusal. */
const outcome = (v: Verifier): Promise<string> =>
  outcomeOf(v.verify(harness.issuer.tokens.sign({ exp: Math.floor(Date.now() / 1000) + 3600 })));

/**
 * The check's lines (warnings and info; the error lines naming a foreign marker's deployment are redis-marker.ts's,
 * throttled on their own) as `level what`, with the unlogged counts when a line has them.
 */
function summary(logger: DataLogger): string[] {
  return logger.lines
    .filter((l) => l.level !== 'error')
    .map((l) => {
      const { unloggedEpisodes: episodes, unloggedRecoveries: recoveries } = (l.data ?? {}) as {
        unloggedEpisodes?: number;
        unloggedRecoveries?: number;
      };
      const counts =
        episodes === undefined ? '' : ` [${episodes} episodes, ${recoveries} recoveries unlogged]`;
      const what = /reachable again/.test(l.message)
        ? 'reachable again'
        : /refused/.test(l.message)
          ? `refused ${l.data?.reason as string}`
          : /failed/.test(l.message)
            ? 'failed'
            : l.message;
      return `${l.level} ${what}${counts}`;
    });
}

/** A strict Redis verifier of the deployment `OWN` over a Redis whose marker (or failure) the test sets. */
function redisVerifier() {
  const redis = { marker: TRUSTED as string | Error };
  const time = fakeClock();
  const logger = dataLogger();
  const v = build(
    {
      strategy: 'strict',
      deployment: OWN,
      redis: {
        mget: () =>
          redis.marker instanceof Error
            ? Promise.reject(redis.marker)
            : Promise.resolve([null, null, null, redis.marker]),
      },
    },
    time.clock,
    logger,
  );
  /** Sets the marker, verifies a token, and says what came of it. */
  const request = (value: string | Error): Promise<string> => {
    redis.marker = value;
    return outcome(v);
  };
  return { v, time, logger, request };
}

const REFUSED = 'ERR_VERIFY_REVOCATION_REFUSED deployment';

describe('the log of a strict Redis check that flips between refusing and answering', () => {
  it('logs the first refusal and recovery, then at most one warning a minute with the flips not logged', async () => {
    const { v, time, logger, request } = redisVerifier();
    expect(await request(TRUSTED)).toBe('accepted');
    expect(await request(EARLIER)).toBe(REFUSED);
    expect(await request(TRUSTED)).toBe('accepted');
    expect(summary(logger)).toEqual(['warn refused deployment', 'info reachable again']);
    // A rolling upgrade: the two versions renew the marker in turn, once a second.
    for (let i = 0; i < 3; i += 1) {
      time.advance(1000);
      expect(await request(EARLIER)).toBe(REFUSED);
      expect(v.stats().revocation.stale).toBe(true);
      time.advance(1000);
      expect(await request(TRUSTED)).toBe('accepted');
      expect(v.stats().revocation.stale).toBe(false);
    }
    expect(summary(logger)).toHaveLength(2);
    // A minute after the last warning, the next refusal is logged, with what was not.
    time.advance(60_000);
    expect(await request(EARLIER)).toBe(REFUSED);
    expect(await request(TRUSTED)).toBe('accepted');
    expect(summary(logger)).toEqual([
      'warn refused deployment',
      'info reachable again',
      'warn refused deployment [3 episodes, 3 recoveries unlogged]',
      'info reachable again',
    ]);
    expect(logger.lines.filter((l) => l.level === 'warn')[1]!.message).toMatch(
      /3 more failing episode\(s\) and 3 recovery\(ies\) were not logged/,
    );
    // Every refused request is still counted.
    expect(v.stats().revocation.failClosed).toBe(5);
  });

  it('logs a refusal that started within the minute of the last warning once the minute is over', async () => {
    const { time, logger, request } = redisVerifier();
    expect(await request(EARLIER)).toBe(REFUSED);
    time.advance(1000);
    expect(await request(TRUSTED)).toBe('accepted');
    // Refusing again, and for good: not logged at once (within the minute), so the log's last word is "reachable".
    time.advance(1000);
    expect(await request(EARLIER)).toBe(REFUSED);
    time.advance(57_999);
    expect(await request(EARLIER)).toBe(REFUSED);
    expect(summary(logger)).toEqual(['warn refused deployment', 'info reachable again']);
    // The first refusal a minute after the last warning says it is refusing now.
    time.advance(1);
    expect(await request(EARLIER)).toBe(REFUSED);
    expect(summary(logger)).toEqual([
      'warn refused deployment',
      'info reachable again',
      'warn refused deployment',
    ]);
    // Logged once per episode: refusing on changes nothing, and its end is logged.
    time.advance(120_000);
    expect(await request(EARLIER)).toBe(REFUSED);
    expect(await request(TRUSTED)).toBe('accepted');
    expect(summary(logger)).toEqual([
      'warn refused deployment',
      'info reachable again',
      'warn refused deployment',
      'info reachable again',
    ]);
  });

  it('throttles each reason apart, and logs the recovery after a logged warning even when its episode was not', async () => {
    const { time, logger, request } = redisVerifier();
    expect(await request(EARLIER)).toBe(REFUSED);
    expect(await request(TRUSTED)).toBe('accepted');
    // Another reason, within the minute: logged at once.
    time.advance(1000);
    expect(await request(UNREADABLE)).toBe('ERR_VERIFY_REVOCATION_REFUSED redis');
    // Back to the first reason, within its minute: not logged; the log's last word is still "refused".
    expect(await request(EARLIER)).toBe(REFUSED);
    expect(await request(TRUSTED)).toBe('accepted');
    expect(summary(logger)).toEqual([
      'warn refused deployment',
      'info reachable again',
      'warn refused redis',
      'info reachable again [1 episodes, 0 recoveries unlogged]',
    ]);
  });

  it('throttles outages likewise, and lets the first one after a quiet minute through', async () => {
    const { time, logger, request } = redisVerifier();
    const down = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    for (let i = 0; i < 3; i += 1) {
      expect(await request(down)).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE redis');
      time.advance(1000);
      expect(await request(TRUSTED)).toBe('accepted');
      time.advance(1000);
    }
    expect(summary(logger)).toEqual(['warn failed', 'info reachable again']);
    time.advance(60_000);
    expect(await request(down)).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE redis');
    expect(summary(logger)).toEqual([
      'warn failed',
      'info reachable again',
      'warn failed [2 episodes, 2 recoveries unlogged]',
    ]);
    expect(logger.lines[2]?.data).toMatchObject({
      failOpen: false,
      error: expect.stringMatching(/ECONNREFUSED/),
    });
  });
});

describe('the log of strict introspection that flips between refusing and answering', () => {
  let endpoint: Server;
  let url = '';
  let status = 200;
  beforeAll(async () => {
    endpoint = createServer((req, res) => {
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"active":true}');
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/api/introspect`;
  });
  afterAll(() => new Promise<void>((resolve) => endpoint.close(() => resolve())));

  it("uses the verifier's clock for the same throttle", async () => {
    const time = fakeClock();
    const logger = dataLogger();
    const v = build(
      { strategy: 'strict', secret: 'introspection-secret', introspectionUrl: url },
      time.clock,
      logger,
    );
    const request = (answer: number): Promise<string> => {
      status = answer;
      return outcome(v);
    };
    for (let i = 0; i < 2; i += 1) {
      expect(await request(429)).toBe('ERR_VERIFY_REVOCATION_REFUSED introspection');
      expect(await request(200)).toBe('accepted');
    }
    expect(summary(logger)).toEqual(['warn refused introspection', 'info reachable again']);
    time.advance(60_000);
    expect(await request(429)).toBe('ERR_VERIFY_REVOCATION_REFUSED introspection');
    expect(summary(logger)).toEqual([
      'warn refused introspection',
      'info reachable again',
      'warn refused introspection [1 episodes, 1 recoveries unlogged]',
    ]);
  });
});
