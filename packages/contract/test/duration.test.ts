/**
 * The one duration parser of every Jot package: a bare number is seconds, a string is a number and a unit, anything
 * else is the same `TypeError`; option helpers name the package and the option.
 */
import { describe, expect, it } from 'vitest';

import { durationOptionMs, parseDuration, parseDurationMs, refuseRenamedOptions } from '../src/index.js';

describe('parseDuration', () => {
  it.each([
    [10, 10],
    ['15m', 900],
    ['2m', 120],
    [120, 120],
    ['30 days', 2_592_000],
    ['2h', 7200],
    ['1w', 604_800],
    ['45', 45],
    ['1.9s', 1],
  ] as const)('reads %p as %i seconds', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it('reads milliseconds with the same rules', () => {
    expect(parseDurationMs(5)).toBe(5000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('2m')).toBe(parseDurationMs(120));
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '', 'soon', '5 parsecs', '-5s'])(
    'refuses %p',
    (input) => {
      expect(() => parseDuration(input)).toThrow(TypeError);
      expect(() => parseDuration(input)).toThrow(/invalid duration/);
    },
  );
});

describe('duration options', () => {
  it('names the package and the option on a bad value', () => {
    expect(durationOptionMs('2m', 'service', 'renewBefore')).toBe(120_000);
    expect(() => durationOptionMs('soon', 'service', 'renewBefore')).toThrow(
      /^service: "renewBefore": invalid duration "soon"/,
    );
  });

  it('refuses a renamed option, saying the new name, and lets the others through', () => {
    expect(() => refuseRenamedOptions({ timeoutMs: 1 }, 'service', { timeoutMs: 'timeout' })).toThrow(
      /service: "timeoutMs" was renamed "timeout"/,
    );
    expect(() => refuseRenamedOptions({ timeout: 1 }, 'service', { timeoutMs: 'timeout' })).not.toThrow();
  });
});
