/** Assertions shared by the suites: every negative case checks the exact `JoseError` code, never just "throws". */
import { expect } from 'vitest';

import { JoseError, type JoseErrorCode } from '../../src/index.js';

/** Runs `fn` and asserts it throws a `JoseError` with `code` (and `claim`/`reason` when given). */
export function expectJoseError(
  fn: () => unknown,
  code: JoseErrorCode,
  details: { claim?: string; reason?: string } = {},
): JoseError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) expect.fail(`expected a JoseError ${code}, but nothing was thrown`);
  if (!(thrown instanceof JoseError)) {
    expect.fail(`expected a JoseError ${code}, got ${describeThrown(thrown)}`);
  }
  expect(thrown.code).toBe(code);
  if (details.claim !== undefined) expect(thrown.claim).toBe(details.claim);
  if (details.reason !== undefined) expect(thrown.reason).toBe(details.reason);
  return thrown;
}

/** Asserts `fn` throws a `JoseError` of one of `codes`. */
export function expectJoseErrorOneOf(fn: () => unknown, codes: readonly JoseErrorCode[]): JoseError {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof JoseError)) expect.fail(`expected a JoseError, got ${describeThrown(error)}`);
    expect(codes).toContain(error.code);
    return error;
  }
  return expect.fail(`expected one of ${codes.join(', ')}, but nothing was thrown`);
}

function describeThrown(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}` : Object.prototype.toString.call(value);
}
