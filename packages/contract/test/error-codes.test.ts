/**
 * The error-code registry: every code is spelled `ERR_…`, belongs to exactly one package area, and the union type
 * and the runtime lists agree. (docs/errors.md against the registry is server/test/error-docs.test.ts.)
 */
import { describe, expect, expectTypeOf, it } from 'vitest';

import type { SERVER_ERROR_CODES } from '../src/index.js';
import {
  ERROR_CODES,
  isJotErrorCode,
  type ErrorBody,
  type JotErrorCode,
  type ServerErrorCode,
} from '../src/index.js';

describe('the error-code registry', () => {
  const all = Object.values(ERROR_CODES).flat();

  it('spells every code ERR_ and upper snake case', () => {
    expect(all.filter((code) => !/^ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/.test(code))).toEqual([]);
  });

  it('has each code in exactly one package area', () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const [area, codes] of Object.entries(ERROR_CODES)) {
      for (const code of codes) {
        if (seen.has(code)) twice.push(`${code} in ${seen.get(code)} and ${area}`);
        seen.set(code, area);
      }
    }
    expect(twice).toEqual([]);
  });

  it('narrows wire strings to known codes only', () => {
    expect(isJotErrorCode('ERR_JWT_EXPIRED')).toBe(true);
    expect(isJotErrorCode('ERR_CLI_USAGE')).toBe(true);
    expect(isJotErrorCode('ERR_NO_SUCH_THING')).toBe(false);
    expect(isJotErrorCode(42)).toBe(false);
    expect(isJotErrorCode(undefined)).toBe(false);
  });

  it('types the union from the lists', () => {
    expectTypeOf<ServerErrorCode>().toEqualTypeOf<(typeof SERVER_ERROR_CODES)[number]>();
    expectTypeOf<ServerErrorCode>().toMatchTypeOf<JotErrorCode>();
    expectTypeOf<'ERR_JWT_EXPIRED'>().toMatchTypeOf<JotErrorCode>();
    expectTypeOf<'ERR_NO_SUCH_THING'>().not.toMatchTypeOf<JotErrorCode>();
    expectTypeOf<ErrorBody['code']>().toEqualTypeOf<JotErrorCode>();
  });
});
