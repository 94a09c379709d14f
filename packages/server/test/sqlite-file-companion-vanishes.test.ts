/**
 * The `-wal` / `-shm` companions of a SQLite file are deleted by whichever process closes the last connection, so
 * one may vanish between being seen and being looked at while another instance opens the same file (seen in CI:
 * "ENOENT … stat 'jot.db-shm'" failed one of six processes opening a new file together). The race is made certain
 * here: the file system answers that a companion exists, then that it does not.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it, vi } from 'vitest';

const vanished = new Set<string>();

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof fs>();
  return {
    ...actual,
    statSync: (path: string) => {
      if (vanished.has(path)) {
        const err: NodeJS.ErrnoException = new Error(`ENOENT: no such file or directory, stat '${path}'`);
        err.code = 'ENOENT';
        throw err;
      }
      return actual.statSync(path);
    },
  };
});

const { secureSqliteFile } = await import('../src/store/sqlite-file.js');

const dir = mkdtempSync(join(tmpdir(), 'jot-sqlite-companion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('securing a SQLite file whose companions come and go', () => {
  it('skips a -shm or -wal file deleted by another process after it was seen', () => {
    const file = join(dir, 'jot.db');
    writeFileSync(file, '', { mode: 0o644 });
    writeFileSync(`${file}-wal`, '', { mode: 0o644 });
    writeFileSync(`${file}-shm`, '', { mode: 0o644 });
    vanished.add(`${file}-shm`);
    expect(() => secureSqliteFile(file)).not.toThrow();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
  });

  it('still fails when the database file itself cannot be looked at', () => {
    const file = join(dir, 'gone.db');
    writeFileSync(file, '', { mode: 0o600 });
    vanished.add(file);
    expect(() => secureSqliteFile(file)).toThrow(/ENOENT/);
  });
});
