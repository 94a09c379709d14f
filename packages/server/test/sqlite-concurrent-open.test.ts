/**
 * Several processes opening one new SQLite file at the same moment (instances of a small deployment starting
 * together): every one opens, the migrations run once, and the schema is complete. Before the migration lock
 * (store/sqlite-file.ts) all but one typically failed with "table already exists". Real processes, from the built
 * package: each loads it once, then, round after round, says it is ready and opens that round's fresh file when
 * the test has heard every process say so and tells them all to go.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { openStore } from '../src/store/open.js';
import { requireBuiltServer, waitFor } from './support/processes.js';

const SERVER = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const PROCESSES = 6;
const ROUNDS = 3;

/**
 * A process that loads the package, then for each `file` `dataDir` pair prints `ready`, waits for a line on its
 * stdin, opens the store on that file, and prints `ok` or its error.
 */
const OPENER = `
const { openStore } = await import(process.argv[1]);
const { createInterface } = await import('node:readline');
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  console.log('ready');
  await lines.next();
  try {
    const store = await openStore({ url: args[i], dataDir: args[i + 1] });
    await store.close();
    console.log('ok');
  } catch (err) {
    console.log('failed: ' + (err.code ?? '') + ' ' + err.message + ' ' + (err.cause?.message ?? '') + ' ' + String(err.cause?.stack ?? err.stack).split(String.fromCharCode(10)).join(' / '));
  }
}
process.exit(0);
`;

/** A running opener and the lines it has printed. */
interface Opener {
  child: ChildProcess;
  lines: string[];
  exited: boolean;
}

function opener(rounds: Array<{ file: string; dir: string }>): Opener {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', OPENER, SERVER, ...rounds.flatMap((r) => [r.file, r.dir])],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const state: Opener = { child, lines: [], exited: false };
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    state.lines.push(...parts.map((l) => l.trim()));
  });
  child.on('exit', () => (state.exited = true));
  // A process that died early makes the `go` written to it fail (EPIPE): its missing lines fail the test instead.
  child.stdin.on('error', () => undefined);
  return state;
}

const dirs: string[] = [];
const openers: Opener[] = [];
afterAll(() => {
  for (const { child, exited } of openers) if (!exited) child.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('SQLite: one new file opened by several processes at once', () => {
  it(`${PROCESSES} processes, ${ROUNDS} fresh files: every open succeeds and each migration ran once`, async () => {
    requireBuiltServer();
    const rounds = Array.from({ length: ROUNDS }, () => {
      const dir = mkdtempSync(join(tmpdir(), 'jot-sqlite-race-'));
      dirs.push(dir);
      return { dir, file: join(dir, 'jot.db') };
    });
    openers.push(...Array.from({ length: PROCESSES }, () => opener(rounds)));
    for (const [round, { file }] of rounds.entries()) {
      // Every process has loaded the package and waits (its `ready` of this round) before any is told to go.
      await waitFor(
        `${PROCESSES} processes ready for round ${round}`,
        () => openers.every((o) => o.exited || o.lines.length >= 2 * round + 1),
        60_000,
      );
      expect(openers.map((o) => o.lines[2 * round])).toEqual(openers.map(() => 'ready'));
      for (const { child } of openers) child.stdin!.write('go\n');
      await waitFor(
        `${PROCESSES} opens of round ${round}`,
        () => openers.every((o) => o.exited || o.lines.length >= 2 * round + 2),
        60_000,
      );
      expect(openers.map((o) => o.lines[2 * round + 1])).toEqual(openers.map(() => 'ok'));
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
