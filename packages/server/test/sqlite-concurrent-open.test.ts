/**
 * Several processes opening one new SQLite file at the same moment (instances of a small deployment starting
 * together): every one opens, the migrations run once, and the schema is complete. Before the migration lock
 * (store/sqlite-file.ts) all but one typically failed with "table already exists". Real processes, from the built
 * package, started together by a shared start time.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { openStore } from '../src/store/open.js';
import { requireBuiltServer } from './support/processes.js';

const SERVER = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const PROCESSES = 6;
const ROUNDS = 3;

/** A process that waits for `at` (ms since the epoch), opens the store on `file`, and prints `ok` or its error. */
const OPENER = `
const { openStore } = await import(process.argv[1]);
const [file, dataDir, at] = process.argv.slice(2);
while (Date.now() < Number(at)) await new Promise((r) => setTimeout(r, 1));
try {
  const store = await openStore({ url: file, dataDir });
  await store.close();
  console.log('ok');
} catch (err) {
  console.log('failed: ' + (err.code ?? '') + ' ' + err.message + ' ' + (err.cause?.message ?? '') + ' ' + String(err.cause?.stack ?? err.stack).split(String.fromCharCode(10)).join(' / '));
}
`;

function open(file: string, dataDir: string, at: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', OPENER, SERVER, file, dataDir, String(at)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(out.trim());
    });
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('SQLite: one new file opened by several processes at once', () => {
  it(`${PROCESSES} processes, ${ROUNDS} fresh files: every open succeeds and each migration ran once`, async () => {
    requireBuiltServer();
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'jot-sqlite-race-'));
      dirs.push(dir);
      const file = join(dir, 'jot.db');
      // Far enough ahead that every process has loaded the package and is waiting when the moment comes.
      const at = Date.now() + 3_000;
      const outcomes = await Promise.all(Array.from({ length: PROCESSES }, () => open(file, dir, at)));
      expect(outcomes).toEqual(Array.from({ length: PROCESSES }, () => 'ok'));
      const db = new Database(file, { readonly: true });
      try {
        const names = (db.prepare('SELECT name FROM kysely_migration').all() as { name: string }[]).map(
          (r) => r.name,
        );
        expect(new Set(names).size).toBe(names.length);
        expect(names).toContain('0001_initial');
        expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'users'").get()).toEqual({
          n: 1,
        });
      } finally {
        db.close();
      }
    }
  }, 120_000);
});

describe('SQLite: the migrations wait for a write lock held in this very process', () => {
  it('opens once the holder commits, without blocking the event loop the holder needs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jot-sqlite-inproc-'));
    dirs.push(dir);
    const file = join(dir, 'jot.db');
    const first = await openStore({ url: file, dataDir: dir });
    const holder = new Database(file);
    try {
      holder.exec('BEGIN IMMEDIATE'); // a write transaction spanning event-loop turns, as a busy server's can
      const released = new Promise<void>((resolve) =>
        setTimeout(() => {
          holder.exec('COMMIT');
          resolve();
        }, 300),
      );
      // SQLite's busy_timeout would wait synchronously, so the commit above could never run.
      const second = await openStore({ url: file, dataDir: dir });
      await released;
      await second.close();
    } finally {
      holder.close();
      await first.close();
    }
  });
});
