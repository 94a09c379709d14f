/**
 * An outage does not flood the log: every request failing the same way (the database down: 503 ERR_UNAVAILABLE; a
 * bug: 500) is answered every time, but logged once per cause and window — the next line of that cause says how many
 * were not logged — while a different cause is logged at once (http/failure-log.ts).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';

import { installErrorHandlers } from '../src/http/error-handler.js';
import { failureLog } from '../src/http/failure-log.js';
import { StoreError } from '../src/store/index.js';

interface Line {
  level: number;
  msg: string;
  suppressed?: number;
  err?: { message: string };
}

/** An app with the error handlers, logging errors as parsed lines into `lines`, its throttle on `clock`. */
function loggingApp(lines: Line[], clock?: () => number): FastifyInstance {
  const app = Fastify({
    logger: {
      level: 'error',
      stream: { write: (line: string) => void lines.push(JSON.parse(line) as Line) },
    },
  });
  installErrorHandlers(app, clock);
  app.get('/store', () => {
    throw new StoreError('ERR_STORE_UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:5432');
  });
  return app;
}

describe('5xx failures in the log', () => {
  it('a database outage: 40 requests answered 503, one line; after the window one line with the count', async () => {
    const lines: Line[] = [];
    let now = 1_000_000;
    const app = loggingApp(lines, () => now);
    app.get('/bug', () => {
      throw new TypeError("Cannot read properties of undefined (reading 'id')");
    });
    try {
      for (let i = 0; i < 40; i++) {
        const res = await app.inject({ method: 'GET', url: '/store' });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toMatchObject({ code: 'ERR_UNAVAILABLE' });
      }
      expect(lines).toHaveLength(1);
      expect(lines[0]!.err?.message).toContain('ECONNREFUSED');

      // Another cause is not held back by the first.
      expect((await app.inject({ method: 'GET', url: '/bug' })).statusCode).toBe(500);
      expect(lines).toHaveLength(2);
      expect(lines[1]!.err?.message).toContain('reading');

      now += 10_001;
      expect((await app.inject({ method: 'GET', url: '/store' })).statusCode).toBe(503);
      expect(lines).toHaveLength(3);
      expect(lines[2]).toMatchObject({ suppressed: 39 });
      expect(lines[2]!.msg).toMatch(/39 more failed the same way/);
    } finally {
      await app.close();
    }
  });

  it('an outage that ends: the count of what was not logged is logged when the window is over', async () => {
    const lines: Line[] = [];
    let now = 5_000_000;
    const app = loggingApp(lines, () => now);
    for (let i = 0; i < 25; i++)
      expect((await app.inject({ method: 'GET', url: '/store' })).statusCode).toBe(503);
    expect(lines).toHaveLength(1);
    now += 10_001; // the database is back: no request fails any more
    await app.close();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ suppressed: 24 });
    expect(lines[1]!.msg).toMatch(/24 more requests failed the same way/);
  });

  it('two bugs with one message thrown in different places are two causes', async () => {
    const lines: Line[] = [];
    const app = loggingApp(lines);
    const message = "Cannot read properties of undefined (reading 'id')";
    app.get('/a', () => {
      throw new TypeError(message);
    });
    app.get('/b', function elsewhere() {
      throw new TypeError(message);
    });
    try {
      await app.inject({ method: 'GET', url: '/a' });
      await app.inject({ method: 'GET', url: '/b' });
      expect(lines).toHaveLength(2);
    } finally {
      await app.close();
    }
  });

  it('past the causes it can remember, every failure is logged rather than none', () => {
    const throttle = failureLog(10_000, 2);
    const decide = (cause: string, now: number) => throttle.decide(cause, now);
    expect(decide('a', 0).log).toBe(true);
    expect(decide('b', 0).log).toBe(true);
    expect(decide('a', 1).log).toBe(false);
    expect(decide('c', 1).log).toBe(true);
    expect(decide('c', 2).log).toBe(true);
    // Once windows are over the map makes room again, and the count of 'a' is not lost.
    expect(decide('d', 10_001).log).toBe(true);
    expect(decide('d', 10_002).log).toBe(false);
    expect(throttle.flush(10_003)).toEqual([{ cause: 'a', suppressed: 1 }]);
  });
});
