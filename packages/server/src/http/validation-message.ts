/**
 * The message of a request refused by its schema, in words a caller can act on: where (body, querystring, params,
 * headers), which field, what is wrong — `body: unknown field "zzz"`, `querystring: limit must be <= 500`,
 * `body: missing field "email"` — rather than Ajv's JSON pointers and "must NOT have additional properties".
 */
import type { FastifySchemaValidationError } from 'fastify';

import { echoed } from '../services/echoed.js';

/** A JSON pointer (`/a/0/b`) as a field path (`a[0].b`); empty for the whole part. */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, segment) => {
      if (/^\d+$/.test(segment)) return `${path}[${segment}]`;
      return path === '' ? segment : `${path}.${segment}`;
    }, '');
}

/**
 * A field name as the caller sent it, made safe to echo: control and other invisible characters as `\uXXXX` (no
 * terminal escape sequences reach a log or a console), cut as every echoed value is (`services/echoed.ts`).
 */
function shown(name: string): string {
  const visible = name.replace(
    // eslint-disable-next-line no-control-regex -- escaping control characters is the point
    /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return echoed(visible);
}

/** A field named inside the part: the path to it and the name (`a.b`, `"c"` → `a.b.c`). */
function child(path: string, name: unknown): string {
  const text = shown(typeof name === 'string' ? name : String(name));
  return path === '' ? text : `${path}.${text}`;
}

/** `what` is wrong with the field at `pointer` of the part `where`: `body: password must be string`. */
export function fieldProblem(where: string, pointer: string, what: string): string {
  const path = shown(fieldPath(pointer));
  return path === '' ? `${where}: ${what}` : `${where}: ${path} ${what}`;
}

/** The first issue of a refused part (`where`) as one sentence. */
export function validationMessage(where: string, issue: FastifySchemaValidationError | undefined): string {
  if (issue === undefined) return `${where}: is not valid`;
  const path = shown(fieldPath(issue.instancePath));
  const params = issue.params;
  switch (issue.keyword) {
    case 'additionalProperties':
      return `${where}: unknown field "${child(path, params.additionalProperty)}"`;
    case 'required':
      return `${where}: missing field "${child(path, params.missingProperty)}"`;
    default:
      return fieldProblem(where, issue.instancePath, issue.message ?? 'is not valid');
  }
}
