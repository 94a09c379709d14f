/**
 * `JOT_DATABASE_URL` is checked by pg's own parser (pg-connection-string), without its side effects: it reads the
 * files named by `sslcert`, `sslkey` and `sslrootcert`, and warns about some `sslmode`s, once per process (so this
 * file, a process of its own, is the first to parse such a URL). Parsing it here does neither: pg reads the
 * certificates when it connects (the loader then checks that they exist and are readable, without reading them:
 * config.test.ts, "JOT_DATABASE_URL certificate files").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type * as Fs from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { postgresUrl } from '../src/config/parsers.js';

/** The module object pg-connection-string's `require('fs')` gets, whose methods a spy can replace. */
const fs = createRequire(import.meta.url)('node:fs') as typeof Fs;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('postgresUrl side effects', () => {
  it('reads no certificate file, existing or not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jot-pg-url-'));
    try {
      const ca = join(dir, 'ca.pem');
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
      const readFileSync = vi.spyOn(fs, 'readFileSync');
      for (const url of [
        `postgres://h/db?sslrootcert=${ca}&sslcert=${ca}&sslkey=${ca}`,
        `postgres://h/db?ssl%72ootcert=${ca}`,
        'postgres://h/db?sslrootcert=/nonexistent/ca.pem',
      ]) {
        expect(postgresUrl(url)).toBe(url);
      }
      expect(readFileSync).not.toHaveBeenCalled();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints no warning about the sslmode', () => {
    const emitWarning = vi.spyOn(process, 'emitWarning');
    for (const mode of ['prefer', 'require', 'verify-ca']) {
      expect(postgresUrl(`postgres://h/db?sslmode=${mode}`)).toBe(`postgres://h/db?sslmode=${mode}`);
    }
    expect(emitWarning).not.toHaveBeenCalled();
  });
});
