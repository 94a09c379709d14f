/**
 * The JSON body parser. Like Fastify's default it refuses a `__proto__` key, and a `constructor` key whose value has
 * a `prototype` key, at any depth (prototype poisoning: a later `Object.assign` or merge would reach the prototype)
 * — but as what they are, `400 ERR_JSON_FORBIDDEN_KEY` naming the key, not as "the body is not valid JSON": they
 * are valid JSON. `JSON.parse` itself makes `__proto__` an own data property, so the scan sees it and nothing is
 * polluted meanwhile.
 */
import type { FastifyInstance } from 'fastify';

import { HttpError } from './errors.js';

/** The first forbidden key found (`__proto__` or `constructor.prototype`), or undefined. */
function forbiddenKey(value: unknown): string | undefined {
  let next: unknown[] = [value];
  while (next.length > 0) {
    const nodes = next;
    next = [];
    for (const node of nodes) {
      if (typeof node !== 'object' || node === null) continue;
      if (Object.hasOwn(node, '__proto__')) return '__proto__';
      const ctor: unknown = (node as Record<string, unknown>).constructor;
      if (Object.hasOwn(node, 'constructor') && typeof ctor === 'object' && ctor !== null) {
        if (Object.hasOwn(ctor, 'prototype')) return 'constructor.prototype';
      }
      next.push(...(Object.values(node) as unknown[]));
    }
  }
  return undefined;
}

/** Replaces the default `application/json` parser (same limits and empty/invalid answers) with the one above. */
export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    // A leading byte-order mark is dropped, as Fastify's parser does.
    const text = (body as string).charCodeAt(0) === 0xfeff ? (body as string).slice(1) : (body as string);
    if (text.length === 0) {
      done(new HttpError(400, 'ERR_BAD_JSON', 'the JSON body is empty'), undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      done(new HttpError(400, 'ERR_BAD_JSON', 'the body is not valid JSON'), undefined);
      return;
    }
    const key = forbiddenKey(parsed);
    if (key !== undefined) {
      done(
        new HttpError(
          400,
          'ERR_JSON_FORBIDDEN_KEY',
          `the JSON body has a forbidden key "${key}": "__proto__", and "constructor" holding "prototype", are ` +
            'refused as a guard against prototype poisoning; drop or rename it',
        ),
        undefined,
      );
      return;
    }
    done(null, parsed);
  });
}
