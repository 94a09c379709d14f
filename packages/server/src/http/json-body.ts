/**
 * The JSON body parser. Like Fastify's default it refuses a `__proto__` key, and a `constructor` key whose value has
 * a `prototype` key, at any depth (prototype poisoning: a later `Object.assign` or merge would reach the prototype)
 * — but as what they are, `400 ERR_JSON_FORBIDDEN_KEY` naming the key, not as "the body is not valid JSON": they
 * are valid JSON. The scan is Fastify's own, `secure-json-parse` (a `\u` escape of any letter of either key is
 * found too: `JSON.parse` decodes the key before the scan looks, and makes `__proto__` an own data property, so
 * nothing is polluted meanwhile).
 */
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';

import { HttpError } from './errors.js';

/** What `secure-json-parse` throws for a forbidden key (4.x says "prototype property" for both kinds). */
const FORBIDDEN = /^Object contains forbidden (?:prototype|constructor) property/;

/**
 * `text` parsed (the library drops one leading byte-order mark, as Fastify's parser does), with both forbidden keys
 * refused. Throws an `HttpError`: `ERR_JSON_FORBIDDEN_KEY` naming the key, or `ERR_BAD_JSON`.
 */
function parseJsonBody(text: string): unknown {
  try {
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    if (!(err instanceof SyntaxError && FORBIDDEN.test(err.message))) {
      throw new HttpError(400, 'ERR_BAD_JSON', 'the body is not valid JSON');
    }
  }
  // Refused: which key (the library says the same for both) is worth a second scan, on this path only.
  let key = 'constructor.prototype';
  try {
    secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'ignore' });
  } catch {
    key = '__proto__';
  }
  throw new HttpError(
    400,
    'ERR_JSON_FORBIDDEN_KEY',
    `the JSON body has a forbidden key "${key}": "__proto__", and "constructor" holding "prototype", are ` +
      'refused as a guard against prototype poisoning; drop or rename it',
  );
}

/** Replaces the default `application/json` parser (same limits and empty/invalid answers) with the one above. */
export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    // Empty, or a byte-order mark alone.
    const text = body as string;
    if (text.length === 0 || (text.length === 1 && text.charCodeAt(0) === 0xfeff)) {
      done(new HttpError(400, 'ERR_BAD_JSON', 'the JSON body is empty'), undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = parseJsonBody(text);
    } catch (err) {
      done(err as HttpError, undefined);
      return;
    }
    done(null, parsed);
  });
}
