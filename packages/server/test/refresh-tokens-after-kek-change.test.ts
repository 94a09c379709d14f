/**
 * Refresh tokens issued before a KEK change (docs/keys.md, "What else the KEK keys"). The tag that lets the server
 * tell its own stale tokens from guesses (services/refresh-token-tags.ts) is keyed by the KEK, and there is no
 * "previous KEK" setting (config/read-kek.ts reads one key): after the operator deletes the sealed signing keys and
 * starts with a new KEK,
 * - a refresh token still held (its session live) refreshes as before — the store keeps only its SHA-256 hash, which
 *   no KEK keys — and its successor carries the new KEK's tag;
 * - a stale one (its session ended, so the store forgot it) no longer carries a tag the server recognises: it is
 *   answered exactly like any stale token (401 `ERR_REFRESH_TOKEN_INVALID`) but spends the address's failure budget
 *   as a guess would, until the clients that hold such tokens have signed in again.
 */
import { Buffer } from 'node:buffer';
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createRefreshTokenTags } from '../src/services/refresh-token-tags.js';
import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery';
const BUDGET = 4;

let nextAddress = randomInt(1, 2 ** 24 - 10_000);
const freshAddress = (): string =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

describe('refresh-token tags are keyed by the KEK', () => {
  it('a token is 43 characters; only the KEK that tagged it recognises it', () => {
    const kek = randomBytes(32);
    const tags = createRefreshTokenTags(kek);
    const token = tags.issue(tags.newMarker());
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tags.isIssued(token)).toBe(true);
    expect(createRefreshTokenTags(Buffer.from(kek)).isIssued(token)).toBe(true);
    expect(createRefreshTokenTags(randomBytes(32)).isIssued(token)).toBe(false);
    expect(tags.isIssued(`${token}A`)).toBe(false);
    expect(tags.isIssued(token.slice(0, 42))).toBe(false);
    expect(tags.isIssued(`${token.slice(0, 42)}${token.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
  });

  it("only the canonical spelling is recognised: the last character's two unused bits must be zero", () => {
    const tags = createRefreshTokenTags(randomBytes(32));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < 16; i++) {
      const token = tags.issue(tags.newMarker());
      const last = alphabet.indexOf(token.slice(-1));
      expect(last % 4).toBe(0);
      // The three other characters that decode to the same 32 bytes (they differ only in the two padding bits).
      for (let low = 1; low < 4; low++) {
        const variant = `${token.slice(0, 42)}${alphabet[last + low]}`;
        expect(Buffer.from(variant, 'base64url').equals(Buffer.from(token, 'base64url'))).toBe(true);
        expect(tags.isIssued(variant)).toBe(false);
      }
    }
  });
});

describe('refresh tokens issued under the previous KEK', () => {
  let server: TestServer;
  const settings = { rateLimitAuth: `${BUDGET}/60s`, trustProxy: true };
  let live: string;
  const stale: string[] = [];

  beforeAll(async () => {
    const before = await startServer({ ...settings, kek: randomBytes(32).toString('base64url') });
    const email = 'kek-refresh@example.com';
    const reg = await before.request('POST', '/api/register', { body: { email, password: PASSWORD } });
    expect(reg.status, reg.text).toBe(201);
    const signIn = async (): Promise<{ access_token: string; refresh_token: string }> => {
      const res = await before.request('POST', '/api/login', {
        body: { email, password: PASSWORD },
        headers: { 'x-forwarded-for': freshAddress() },
      });
      expect(res.status, res.text).toBe(200);
      return res.body;
    };
    live = (await signIn()).refresh_token;
    for (let i = 0; i < BUDGET; i++) {
      const s = await signIn();
      const out = await before.request('POST', '/api/logout', {
        token: s.access_token,
        headers: { 'x-forwarded-for': freshAddress() },
      });
      expect(out.status).toBeLessThan(300);
      stale.push(s.refresh_token);
    }
    await before.close({ keepData: true });
    // The documented way out of a lost KEK: delete the sealed signing keys, start with a new KEK.
    const db = new Database(join(before.dataDir, 'jot.db'));
    try {
      db.prepare('DELETE FROM signing_keys').run();
    } finally {
      db.close();
    }
    server = await startServer(
      { ...settings, kek: randomBytes(32).toString('base64url') },
      { dataDir: before.dataDir },
    );
  });
  afterAll(() => server?.close());

  const refresh = (address: string, token: string): Promise<TestResponse> =>
    server.request('POST', '/api/token/refresh', {
      body: { refresh_token: token },
      headers: { 'x-forwarded-for': address },
    });

  it('a live session refreshes with its old token; the successor is recognised under the new KEK', async () => {
    const res = await refresh(freshAddress(), live);
    expect(res.status, res.text).toBe(200);
    const next = res.body.refresh_token as string;
    expect(createRefreshTokenTags(server.config.kek).isIssued(next)).toBe(true);
    expect(createRefreshTokenTags(server.config.kek).isIssued(live)).toBe(false);
    expect((await refresh(freshAddress(), next)).status).toBe(200);
  });

  it('stale tokens of the previous KEK are answered as stale but spend the address budget like guesses', async () => {
    const office = freshAddress();
    for (const token of stale) {
      const res = await refresh(office, token);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_REFRESH_TOKEN_INVALID');
    }
    const locked = await refresh(office, stale[0]!);
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('ERR_RATE_LIMITED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another address is not affected.
    expect((await refresh(freshAddress(), stale[0]!)).status).toBe(401);
  });
});
