/**
 * Signing keys at rest and their rotation: KEK sealing, and the key manager over a real SQLite store with an
 * injected clock (no sleeping): first key, pre-publication, retirement, immediate rotation, several instances,
 * restarts, every algorithm, and the failure paths (wrong KEK, tampered rows).
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  SUPPORTED_ALGORITHMS,
  createSigner,
  createVerifier,
  generateKeyPair,
  importJWK,
  isJoseError,
} from '@jot/jose';
import type { Algorithm } from '@jot/jose';

import { KeyError } from '../src/keys/errors.js';
import { createKek } from '../src/keys/kek.js';
import { createKeyManager } from '../src/keys/key-manager.js';
import type { KeyManagerConfig } from '../src/keys/key-manager.js';
import type { KeyManager } from '../src/keys/types.js';
import { openStore } from '../src/store/index.js';
import type { Store } from '../src/store/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2030, 0, 1);

function baseConfig(overrides: Partial<KeyManagerConfig> = {}): KeyManagerConfig {
  return {
    kek: randomBytes(32),
    signingAlg: 'ES256',
    accessTokenTtlMs: 15 * MINUTE,
    clockToleranceMs: 5_000,
    keyRotationIntervalMs: 30 * DAY,
    keyPrepublishMs: HOUR,
    jwksMaxAgeMs: 10 * MINUTE,
    ...overrides,
  };
}

function code(err: unknown): string | undefined {
  return err instanceof KeyError || isJoseError(err) ? err.code : undefined;
}

describe('KEK sealing', () => {
  const kek = createKek(randomBytes(32));

  it('opens what it sealed, with a fresh IV each time', () => {
    const a = kek.seal(Buffer.from('private key'), 'kid-1');
    const b = kek.seal(Buffer.from('private key'), 'kid-1');
    expect(a).not.toBe(b);
    expect(a.startsWith(`v1.${kek.id}.`)).toBe(true);
    expect(kek.open(a, 'kid-1').toString()).toBe('private key');
  });

  it('refuses a ciphertext under other associated data (moved to another kid)', () => {
    const sealed = kek.seal(Buffer.from('private key'), 'kid-1');
    expect(() => kek.open(sealed, 'kid-2')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_SEALED_INVALID' }),
    );
  });

  it('refuses a tampered ciphertext', () => {
    const sealed = kek.seal(Buffer.from('private key'), 'kid-1');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0]! ^= 1;
    const tampered = [...parts.slice(0, 3), body.toString('base64url')].join('.');
    expect(() => kek.open(tampered, 'kid-1')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_SEALED_INVALID' }),
    );
    expect(() => kek.open('v2.x.y.z', 'kid-1')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_SEALED_INVALID' }),
    );
    expect(() => kek.open('garbage', 'kid-1')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_SEALED_INVALID' }),
    );
  });

  it('reports a wrong KEK as ERR_KEK_MISMATCH naming JOT_KEK, without key bytes in the message', () => {
    const material = randomBytes(32);
    const other = createKek(material);
    const sealed = kek.seal(Buffer.from('private key'), 'kid-1');
    let caught: unknown;
    try {
      other.open(sealed, 'kid-1');
    } catch (err) {
      caught = err;
    }
    expect(code(caught)).toBe('ERR_KEK_MISMATCH');
    const message = (caught as Error).message;
    expect(message).toContain('JOT_KEK');
    for (const form of ['hex', 'base64', 'base64url'] as const)
      expect(message).not.toContain(material.toString(form));
  });

  it('rejects key material that is not 32 bytes as a TypeError', () => {
    expect(() => createKek(randomBytes(16))).toThrow(TypeError);
  });
});

describe('key manager', () => {
  let dir: string;
  let store: Store;
  let now: number;
  const clock = (): number => now;
  const managers: KeyManager[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jot-keys-'));
    store = await openStore({ dataDir: dir });
    now = T0;
  });

  afterEach(async () => {
    for (const m of managers.splice(0)) m.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function manager(config: KeyManagerConfig, over: Store = store): Promise<KeyManager> {
    const m = await createKeyManager({ store: over, config, clock, tickIntervalMs: 0 });
    managers.push(m);
    return m;
  }

  function kids(m: KeyManager): string[] {
    return m.jwks().keys.map((k) => k.kid ?? '');
  }

  it('creates the first key when the store has none, stored sealed and named by its RFC 7638 thumbprint', async () => {
    const m = await manager(baseConfig());
    const [info, ...rest] = m.list();
    expect(rest).toEqual([]);
    expect(info).toMatchObject({
      alg: 'ES256',
      state: 'active',
      activatesAt: T0,
      retiredAt: null,
      expiresAt: null,
    });
    expect(m.activeKey().kid).toBe(info!.kid);
    const [jwk] = m.jwks().keys;
    expect(jwk).toMatchObject({ kid: info!.kid, alg: 'ES256', use: 'sig', kty: 'EC' });
    expect(jwk).not.toHaveProperty('d');
    expect(importJWK(jwk).thumbprint()).toBe(info!.kid);

    const [row] = await store.listSigningKeys();
    expect(row!.privateKeyCiphertext.startsWith('v1.')).toBe(true);
    expect(row!.privateKeyCiphertext).not.toContain(m.activeKey().toJWK({ includePrivate: true }).d);
    expect(row!.publicJwk).not.toHaveProperty('d');
  });

  it('pre-publishes a rotated key and switches the signing kid only after the pre-publication period', async () => {
    const config = baseConfig();
    const m = await manager(config);
    const oldKid = m.activeKey().kid;
    now += 5 * MINUTE;
    const info = await m.rotate();
    expect(info).toMatchObject({ state: 'pending', activatesAt: now + HOUR, retiredAt: null });
    expect(kids(m)).toEqual([info.kid, oldKid]);
    expect(m.list().map((k) => k.state)).toEqual(['pending', 'active']);

    now = info.activatesAt - 1;
    expect(m.activeKey().kid).toBe(oldKid);
    now = info.activatesAt;
    expect(m.activeKey().kid).toBe(info.kid);
    expect(m.list().map((k) => k.state)).toEqual(['active', 'retired']);
    expect(m.list()[1]).toMatchObject({
      kid: oldKid,
      retiredAt: info.activatesAt,
      expiresAt: info.activatesAt + config.accessTokenTtlMs + config.clockToleranceMs,
    });
  });

  it('keeps a retired key published until every token it signed has expired, then drops it', async () => {
    const config = baseConfig();
    const m = await manager(config);
    const verify = createVerifier(m, { algorithms: ['ES256'] });
    const oldKid = m.activeKey().kid;
    const { activatesAt } = await m.rotate();

    // The last token the old key signs, just before the switch, lives for one access-token TTL.
    now = activatesAt - 1;
    const ttlSeconds = config.accessTokenTtlMs / 1000;
    const lastToken = createSigner(m.activeKey(), { expiresIn: ttlSeconds })(
      { sub: 'u1' },
      { currentDate: new Date(now) },
    );
    now = activatesAt + config.accessTokenTtlMs - 2_000;
    expect(kids(m)).toContain(oldKid);
    expect(verify(lastToken, { currentDate: new Date(now) }).payload.sub).toBe('u1');

    now = activatesAt + config.accessTokenTtlMs + config.clockToleranceMs - 1;
    expect(kids(m)).toContain(oldKid);
    now += 1;
    expect(kids(m)).not.toContain(oldKid);
    expect(m.list().map((k) => k.kid)).not.toContain(oldKid);
    expect(() => m.select('ES256', oldKid)).toThrow(
      expect.objectContaining({ code: 'ERR_JWKS_NO_MATCHING_KEY' }),
    );

    await m.tick();
    expect((await store.listSigningKeys()).map((r) => r.kid)).not.toContain(oldKid);
  });

  it('switches at once on an immediate rotation and retires the previous key from now', async () => {
    const config = baseConfig();
    const m = await manager(config);
    const oldKid = m.activeKey().kid;
    now += HOUR;
    const info = await m.rotate({ immediate: true });
    expect(info.state).toBe('active');
    expect(m.activeKey().kid).toBe(info.kid);
    expect(m.list()[1]).toMatchObject({
      kid: oldKid,
      state: 'retired',
      retiredAt: now,
      expiresAt: now + config.accessTokenTtlMs + config.clockToleranceMs,
    });
  });

  it('lets an immediate rotation override a pending key, which then never signs', async () => {
    const m = await manager(baseConfig());
    const pending = await m.rotate();
    const urgent = await m.rotate({ immediate: true });
    expect(m.list().find((k) => k.kid === pending.kid)?.state).toBe('retired');
    now = pending.activatesAt;
    expect(m.activeKey().kid).toBe(urgent.kid);
  });

  it('withdrawing a pending key un-retires the key due to hand over to it: a key still signs after its time', async () => {
    const config = baseConfig();
    const m = await manager(config);
    const verify = createVerifier(m, { algorithms: ['ES256'] });
    const oldKid = m.activeKey().kid;
    now += 5 * MINUTE;
    const pending = await m.rotate();
    // Rotating schedules the hand-over: the old key retires when the pending one activates.
    expect(m.list().find((k) => k.kid === oldKid)?.retiredAt).toBe(pending.activatesAt);
    now = pending.activatesAt - 10 * MINUTE;

    expect(await m.withdraw(pending.kid)).toMatchObject({ outcome: 'withdrawn', kid: pending.kid });
    expect(m.list()).toEqual([
      expect.objectContaining({ kid: oldKid, state: 'active', retiredAt: null, expiresAt: null }),
    ]);
    expect(kids(m)).toEqual([oldKid]);

    // Past the withdrawn key's activation time, and after the schedule ran, the old key still signs.
    now = pending.activatesAt + MINUTE;
    await m.tick();
    expect(m.activeKey().kid).toBe(oldKid);
    expect(m.list().find((k) => k.kid === oldKid)).toMatchObject({ state: 'active', retiredAt: null });
    expect(m.list().map((k) => k.kid)).not.toContain(pending.kid);
    const token = createSigner(m.activeKey(), { expiresIn: 60 })(
      { sub: 'u1' },
      { currentDate: new Date(now) },
    );
    expect(verify(token, { currentDate: new Date(now) }).payload.sub).toBe('u1');
    expect(() => m.select('ES256', pending.kid)).toThrow(
      expect.objectContaining({ code: 'ERR_JWKS_NO_MATCHING_KEY' }),
    );
  });

  it('rotates on schedule: the next key is published one pre-publication period before the interval ends', async () => {
    const config = baseConfig();
    const m = await manager(config);
    const first = m.activeKey().kid;
    now = T0 + config.keyRotationIntervalMs - config.keyPrepublishMs - 1;
    await m.tick();
    expect(m.list()).toHaveLength(1);
    now += 1;
    await m.tick();
    const [next] = m.list();
    expect(next).toMatchObject({ state: 'pending', activatesAt: T0 + config.keyRotationIntervalMs });
    await m.tick();
    expect(m.list()).toHaveLength(2);
    now = T0 + config.keyRotationIntervalMs;
    expect(m.activeKey().kid).toBe(next!.kid);
    expect(m.activeKey().kid).not.toBe(first);
  });

  it('sees a rotation made by another instance after its next tick', async () => {
    const config = baseConfig();
    const a = await manager(config);
    const second = await openStore({ dataDir: dir });
    try {
      const b = await manager(config, second);
      expect(kids(b)).toEqual(kids(a));
      const info = await a.rotate();
      expect(kids(b)).not.toContain(info.kid);
      await b.tick();
      expect(kids(b)).toEqual(kids(a));
      now = info.activatesAt;
      expect(b.activeKey().kid).toBe(info.kid);
      expect(a.activeKey().kid).toBe(info.kid);
    } finally {
      managers.pop()?.close();
      await second.close();
    }
  });

  it('runs tick() on its own timer, which close() stops', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const config = baseConfig();
      const timed = await createKeyManager({ store, config, clock, tickIntervalMs: MINUTE });
      const other = await manager(config);
      const info = await other.rotate();
      expect(kids(timed)).not.toContain(info.kid);
      await vi.advanceTimersByTimeAsync(MINUTE);
      await vi.waitFor(() => expect(kids(timed)).toContain(info.kid));
      timed.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('repairs two instances rotating at once: one key signs, the other is retired and expires', async () => {
    const config = baseConfig();
    const a = await manager(config);
    const b = await manager(config);
    const [ra, rb] = await Promise.all([a.rotate(), b.rotate()]);
    await a.tick();
    await b.tick();
    now = Math.max(ra.activatesAt, rb.activatesAt);
    const active = a.activeKey().kid;
    expect(b.activeKey().kid).toBe(active);
    expect(a.list().filter((k) => k.state === 'active')).toHaveLength(1);
    now += config.accessTokenTtlMs + config.clockToleranceMs;
    await a.tick();
    expect(a.list().map((k) => k.kid)).toEqual([active]);
  });

  it('keeps the same keys across a restart with the same KEK', async () => {
    const config = baseConfig();
    const first = await manager(config);
    await first.rotate();
    const token = createSigner(first.activeKey())({ sub: 'u1' }, { currentDate: new Date(now) });
    first.close();
    const again = await manager(config);
    expect(again.list()).toEqual(first.list());
    expect(again.jwks()).toEqual(first.jwks());
    const verify = createVerifier(again, { algorithms: ['ES256'], requireExp: false });
    expect(verify(token, { currentDate: new Date(now) }).payload.sub).toBe('u1');
  });

  it('refuses to start with another JOT_KEK: ERR_KEK_MISMATCH', async () => {
    await manager(baseConfig());
    await expect(manager(baseConfig())).rejects.toMatchObject({
      name: 'KeyError',
      code: 'ERR_KEK_MISMATCH',
      message: expect.stringContaining('JOT_KEK'),
    });
  });

  it('refuses a row whose ciphertext or alg was edited: ERR_KEY_SEALED_INVALID', async () => {
    const config = baseConfig({ signingAlg: 'RS256' });
    await manager(config);
    const db = new Database(join(dir, 'jot.db'));
    try {
      db.prepare("UPDATE signing_keys SET alg = 'PS256'").run();
      await expect(manager(config)).rejects.toMatchObject({ code: 'ERR_KEY_SEALED_INVALID' });
      db.prepare("UPDATE signing_keys SET alg = 'RS256'").run();
      const row = db.prepare('SELECT private_key_ciphertext AS c FROM signing_keys').get() as { c: string };
      db.prepare('UPDATE signing_keys SET private_key_ciphertext = ?').run(`${row.c.slice(0, -4)}AAAA`);
      await expect(manager(config)).rejects.toMatchObject({ code: 'ERR_KEY_SEALED_INVALID' });
    } finally {
      db.close();
    }
  });

  it('publishes the key derived from the sealed private key, not an edited public_jwk column', async () => {
    const config = baseConfig();
    const original = (await manager(config)).jwks();
    const intruder = generateKeyPair('ES256').publicKey().toJWK();
    const db = new Database(join(dir, 'jot.db'));
    try {
      db.prepare('UPDATE signing_keys SET public_jwk = ?').run(JSON.stringify(intruder));
    } finally {
      db.close();
    }
    const restarted = await manager(config);
    expect(restarted.jwks()).toEqual(original);
  });

  it('derives the JWKS max-age from the schedule: never longer than the pre-publication period', async () => {
    const config = baseConfig();
    expect((await manager(config)).jwksMaxAgeSeconds()).toBe(600);
    const short = await manager({ ...config, keyPrepublishMs: 5 * MINUTE });
    expect(short.jwksMaxAgeSeconds()).toBeLessThanOrEqual(300);
  });

  it('rejects a schedule whose interval does not exceed the pre-publication period', async () => {
    await expect(manager(baseConfig({ keyRotationIntervalMs: HOUR }))).rejects.toThrow(TypeError);
  });

  describe.each(SUPPORTED_ALGORITHMS.map((alg) => [alg]))('signing with %s', (alg: Algorithm) => {
    it('signs tokens its own select() verifies; HS keys are never published', async () => {
      const m = await manager(baseConfig({ signingAlg: alg }));
      const key = m.activeKey();
      expect(key.alg).toBe(alg);
      const token = createSigner(key)({ sub: 'u1' }, { currentDate: new Date(now) });
      const verify = createVerifier(m, { algorithms: [alg], requireExp: false });
      expect(verify(token, { currentDate: new Date(now) }).payload.sub).toBe('u1');
      if (alg.startsWith('HS')) {
        expect(m.jwks().keys).toEqual([]);
        const [row] = await store.listSigningKeys();
        expect(row!.publicJwk).not.toHaveProperty('k');
      } else {
        expect(m.jwks().keys).toEqual([expect.objectContaining({ kid: key.kid, alg, use: 'sig' })]);
      }
    });
  });
});
