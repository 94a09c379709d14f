/**
 * One rule for every route's input, so no route can forget it: after schema validation (and type coercion),
 * every string in the path parameters, query and body — keys included — must be well-formed Unicode (no lone UTF-16
 * surrogate, which JSON's `\ud800` escape can carry) and free of control characters, and every number must be a
 * finite value within ±(2^53 − 1). Anything else is a 400 `ERR_VALIDATION` naming where.
 *
 * Why here and not per route: PostgreSQL refuses U+0000 in text (SQLSTATE 22021) and integers beyond `bigint`
 * (22003), SQLite refuses a non-integer OFFSET; a route schema that says `type: 'string'` or `type: 'integer'`
 * lets both through. Control characters have no business in an email, a name, an id or a token either, and a
 * number past 2^53 cannot even be represented exactly in JavaScript. A lone surrogate cannot be stored or hashed as
 * sent: encoded to UTF-8 it silently becomes U+FFFD, so `"\ud800x"` and `"\udfffx"` would be one name, one password.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { HttpError } from './errors.js';
import { fieldProblem } from './validation-message.js';

/** C0 controls, DEL and the C1 controls. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A lone surrogate: in a `u` regular expression a string is read by code points, so a paired surrogate is one
 * supplementary character and only an unpaired one is of category Cs. (`String.prototype.isWellFormed` does the
 * same from Node 20, but is ES2024, beyond the ES2023 library this code is typed against.)
 */
const LONE_SURROGATE = /\p{Cs}/u;

/** Why a string is refused, or undefined when it is acceptable. */
function stringProblem(value: string): string | undefined {
  if (LONE_SURROGATE.test(value)) {
    return 'must be well-formed Unicode, without a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape)';
  }
  if (CONTROL_CHARACTER.test(value)) return 'must not contain control characters';
  return undefined;
}

/** Nesting beyond this is refused rather than walked (the body limit already bounds the size). */
const MAX_DEPTH = 32;

/** Why a value is refused, or undefined when it is acceptable. */
function problem(value: unknown): string | undefined {
  if (typeof value === 'string') return stringProblem(value);
  if (typeof value === 'number') {
    return Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER
      ? undefined
      : `must be a number between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`;
  }
  return undefined;
}

/** The first offending value under `value` as `[pointer, reason]` (a JSON pointer), depth first. */
function findProblem(value: unknown, path: string, depth = 0): [string, string] | undefined {
  const own = problem(value);
  if (own !== undefined) return [path, own];
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth >= MAX_DEPTH) return [path, 'is nested too deeply'];
  const entries = Array.isArray(value) ? value.entries() : Object.entries(value as Record<string, unknown>);
  for (const [key, member] of entries) {
    if (typeof key === 'string' && stringProblem(key) !== undefined) {
      const what = LONE_SURROGATE.test(key) ? 'a lone UTF-16 surrogate' : 'control characters';
      return [path, `must not have a field name containing ${what}`];
    }
    const found = findProblem(member, `${path}/${String(key)}`, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Checks one request; throws the 400 for the first bad value. */
export function checkRequestInput(request: FastifyRequest): void {
  const sources: [string, unknown][] = [
    ['params', request.params],
    ['querystring', request.query],
    ['body', request.body],
  ];
  for (const [source, value] of sources) {
    const found = findProblem(value, '');
    if (found !== undefined) {
      const [pointer, reason] = found;
      throw new HttpError(400, 'ERR_VALIDATION', fieldProblem(source, pointer, reason), {
        error: 'invalid_request',
      });
    }
  }
}

/**
 * Installs the check on every route of `app` (register it before the feature plugins). It runs as the first
 * pre-handler: after the schema has validated and coerced, before authentication and the route.
 */
export function installInputGuard(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    checkRequestInput(request);
  });
}
