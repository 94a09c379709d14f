/**
 * In production the server says at start, once each, when a setting it accepts weakens the rate limits (found by
 * review):
 * - `JOT_TRUST_PROXY=true` trusts every X-Forwarded-For hop, so a client can write the address every per-address
 *   limit keys on (a hop count or the proxies' addresses are the safe settings);
 * - PostgreSQL without `JOT_REDIS_URL`: the rate limits are counted per instance (N instances, N budgets), while the
 *   sign-in and MFA lockouts, in the database, hold across instances.
 * Outside production neither is said (a laptop is one instance, usually without a proxy).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';

import { warnAboutDevelopmentDefaults } from '../src/bootstrap.js';
import { loadConfig } from '../src/config/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const PROD = {
  NODE_ENV: 'production',
  JOT_ISSUER: 'https://auth.example.com',
  JOT_KEK: randomBytes(32).toString('hex'),
};

/** The warnings logged at start for these settings, on a store of `dialect`. */
function startUpWarnings(env: Record<string, string>, dialect: 'sqlite' | 'postgres'): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'jot-warn-'));
  dirs.push(dir);
  const config = loadConfig({ cwd: dir, file: false, env: { JOT_DATA_DIR: dir, ...env } });
  const warnings: string[] = [];
  const app = {
    jot: { config, store: { dialect } },
    log: { warn: (message: string) => warnings.push(message), info: () => undefined },
  } as unknown as FastifyInstance;
  warnAboutDevelopmentDefaults(app);
  return warnings;
}

const trustEveryHop = (warnings: string[]) => warnings.filter((w) => w.includes('JOT_TRUST_PROXY=true'));
const perInstance = (warnings: string[]) => warnings.filter((w) => w.includes('without JOT_REDIS_URL'));

describe('start-up warnings about weakened rate limits', () => {
  it('JOT_TRUST_PROXY=true in production: one warning that a client can choose its own address', () => {
    const warned = trustEveryHop(startUpWarnings({ ...PROD, JOT_TRUST_PROXY: 'true' }, 'sqlite'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/client can write itself/);
    expect(warned[0]).toMatch(/number of proxies/);
  });

  it('a hop count, addresses or no proxy in production, or true outside production: no such warning', () => {
    for (const trust of ['1', '10.0.0.0/8', 'false'])
      expect(trustEveryHop(startUpWarnings({ ...PROD, JOT_TRUST_PROXY: trust }, 'sqlite')), trust).toEqual(
        [],
      );
    expect(
      trustEveryHop(startUpWarnings({ NODE_ENV: 'development', JOT_TRUST_PROXY: 'true' }, 'sqlite')),
    ).toEqual([]);
  });

  it('PostgreSQL without Redis in production: one warning naming what is counted per instance', () => {
    const warned = perInstance(startUpWarnings(PROD, 'postgres'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/per-address, per-user, per-session, per-client, failure and per-mail/);
    expect(warned[0]).toMatch(/N instances allow N times as much/);
    expect(warned[0]).toMatch(/sign-in and MFA lockouts are in the database/);
  });

  it('PostgreSQL with Redis, SQLite (one instance), or PostgreSQL outside production: no such warning', () => {
    expect(
      perInstance(startUpWarnings({ ...PROD, JOT_REDIS_URL: 'redis://redis.internal:6379' }, 'postgres')),
    ).toEqual([]);
    expect(perInstance(startUpWarnings(PROD, 'sqlite'))).toEqual([]);
    expect(perInstance(startUpWarnings({ NODE_ENV: 'development' }, 'postgres'))).toEqual([]);
  });
});
