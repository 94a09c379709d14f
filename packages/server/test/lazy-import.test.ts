/**
 * `lazyImport` (services/lazy-import.ts), which loads the heavy dependencies at first use: concurrent first calls
 * share one load, a failed load rejects with the loader's own error and is tried again by the next call, and
 * `loaded()` never starts a load.
 */
import { describe, expect, it } from 'vitest';

import { lazyImport } from '../src/services/lazy-import.js';

/** A load that the test resolves or rejects by hand, counting how often it was started. */
function manualLoad<T>(): {
  load: () => Promise<T>;
  started: () => number;
  settle: (outcome: { value: T } | { error: Error }) => void;
} {
  let started = 0;
  let settle: ((outcome: { value: T } | { error: Error }) => void) | undefined;
  return {
    load: () => {
      started += 1;
      return new Promise<T>((resolve, reject) => {
        settle = (outcome) => ('value' in outcome ? resolve(outcome.value) : reject(outcome.error));
      });
    },
    started: () => started,
    settle: (outcome) => settle!(outcome),
  };
}

describe('lazyImport', () => {
  it('loads nothing until first called, then once for concurrent first calls', async () => {
    const module = { name: 'the module' };
    const manual = manualLoad<typeof module>();
    const lib = lazyImport(manual.load);
    expect(manual.started()).toBe(0);
    expect(lib.loaded()).toBeUndefined();
    const first = lib.load();
    const second = lib.load();
    expect(manual.started()).toBe(1);
    expect(lib.loaded()).toBeUndefined();
    manual.settle({ value: module });
    expect(await first).toBe(module);
    expect(await second).toBe(module);
    expect(await lib.load()).toBe(module);
    expect(lib.loaded()).toBe(module);
    expect(manual.started()).toBe(1);
  });

  it('rejects every waiting call with the load error, then tries again on the next call', async () => {
    const manual = manualLoad<string>();
    const lib = lazyImport(manual.load);
    const failure = new Error('Cannot find package');
    const first = lib.load();
    const second = lib.load();
    manual.settle({ error: failure });
    await expect(first).rejects.toBe(failure);
    await expect(second).rejects.toBe(failure);
    expect(lib.loaded()).toBeUndefined();
    const retry = lib.load();
    expect(manual.started()).toBe(2);
    manual.settle({ value: 'loaded at last' });
    expect(await retry).toBe('loaded at last');
    expect(lib.loaded()).toBe('loaded at last');
  });
});
