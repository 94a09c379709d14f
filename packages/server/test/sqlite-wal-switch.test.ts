/**
 * Switching a new SQLite file to WAL when SQLite answers "database is locked" without waiting (several processes
 * opening one new file at once; sqlite-concurrent-open.test.ts meets it under load): the switch is retried until the
 * deadline, and any other error, or a lock that outlasts the deadline, is thrown.
 */
import { describe, expect, it } from 'vitest';

import { switchToWal } from '../src/store/sqlite.js';

/** A stand-in connection whose `pragma` fails with `errors` in turn, then succeeds; counts its calls. */
function connection(errors: Array<{ code: string }>) {
  const calls: string[] = [];
  return {
    calls,
    pragma(source: string): unknown {
      calls.push(source);
      const error = errors.shift();
      if (error !== undefined) {
        const locked = new Error('database is locked') as Error & { code?: string };
        locked.code = error.code;
        throw locked;
      }
      return [{ journal_mode: 'wal' }];
    },
  };
}

describe('switching a new SQLite file to WAL', () => {
  it('retries while the file is locked, then switches', () => {
    const db = connection([{ code: 'SQLITE_BUSY' }, { code: 'SQLITE_BUSY_RECOVERY' }]);
    switchToWal(db);
    expect(db.calls).toEqual(['journal_mode = WAL', 'journal_mode = WAL', 'journal_mode = WAL']);
  });

  it('throws any other error at once', () => {
    const db = connection([{ code: 'SQLITE_CORRUPT' }]);
    expect(() => switchToWal(db)).toThrow(expect.objectContaining({ code: 'SQLITE_CORRUPT' }));
    expect(db.calls).toHaveLength(1);
  });

  it('gives up with the lock error once the wait is over', () => {
    const db = connection(Array.from({ length: 1000 }, () => ({ code: 'SQLITE_BUSY' })));
    expect(() => switchToWal(db, 0)).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    expect(db.calls).toHaveLength(1);
  });
});
