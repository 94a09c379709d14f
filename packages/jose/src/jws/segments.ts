/**
 * Strict reading of the compact serialization (RFC 7515 §7.1): exactly three parts, canonical base64url, header and
 * payload that are UTF-8 JSON objects, and a header whose parameters have the right types. Everything here throws
 * `JoseError` and nothing else, whatever the input.
 */
import { Buffer } from 'node:buffer';

import { JoseError, type JoseErrorCode } from '../errors.js';
import { ALGORITHMS, type AlgorithmSpec } from '../lib/algorithms.js';
import { isCanonicalBase64url } from '../lib/base64url.js';
import type { JWSHeader } from './types.js';

/** The default and recommended limit on a token's length, in characters (= bytes; tokens are ASCII). */
export const DEFAULT_MAX_TOKEN_LENGTH = 8192;
/** Longest `kid` accepted; longer ones are refused before any lookup (node-jws CVE-2025-65945). */
export const MAX_KID_LENGTH = 256;

/** A compact token cut at its two dots. */
export interface Segments {
  readonly header: string;
  readonly payload: string;
  readonly signature: string;
  /** `header.payload`, the JWS signing input. */
  readonly signingInput: string;
}

/** A header that passed every structural check. */
export interface ParsedHeader {
  readonly header: Readonly<JWSHeader>;
  readonly spec: AlgorithmSpec;
  readonly kid: string | undefined;
}

// ignoreBOM keeps a leading U+FEFF in the text, so JSON.parse refuses it exactly as it does on the Buffer path.
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Splits a token into its three parts after the type and size checks; throws `ERR_JWS_INVALID`/`_TOO_LARGE`. */
export function splitCompact(token: unknown, maxLength: number): Segments {
  if (typeof token !== 'string') throw new JoseError('ERR_JWS_INVALID', 'the token must be a string');
  if (token.length > maxLength) {
    throw new JoseError('ERR_JWS_TOO_LARGE', `the token is longer than the limit of ${maxLength} bytes`);
  }
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1 || token.indexOf('.', second + 1) !== -1) {
    throw new JoseError('ERR_JWS_INVALID', 'a compact JWS has exactly three parts separated by "."');
  }
  return {
    header: token.slice(0, first),
    payload: token.slice(first + 1, second),
    signature: token.slice(second + 1),
    signingInput: token.slice(0, second),
  };
}

/** Throws `code` unless `segment` is canonical base64url. */
export function requireCanonical(
  segment: string,
  what: string,
  code: JoseErrorCode = 'ERR_JWS_INVALID',
): void {
  if (!isCanonicalBase64url(segment)) throw notCanonical(what, code);
}

/** The refusal of a segment that is not canonical base64url. */
export function notCanonical(what: string, code: JoseErrorCode = 'ERR_JWS_INVALID'): JoseError {
  return new JoseError(code, `the ${what} is not canonical base64url`, { reason: 'base64url' });
}

/** Decodes a canonical base64url segment or throws `code`. */
export function decodeSegment(
  segment: string,
  what: string,
  code: JoseErrorCode = 'ERR_JWS_INVALID',
): Buffer {
  requireCanonical(segment, what, code);
  return Buffer.from(segment, 'base64url');
}

/** Characters needed to write `bytes` bytes as unpadded base64url. */
export function encodedLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

/** `bytes[start, end)` as text, refusing invalid UTF-8 (Node's decoder would replace it silently). */
function utf8Text(bytes: Buffer, start: number, end: number, what: string, code: JoseErrorCode): string {
  const text = bytes.toString('utf8', start, end);
  if (!text.includes('\uFFFD')) return text;
  // Only a real U+FFFD may stay.
  try {
    return fatalUtf8.decode(bytes.subarray(start, end));
  } catch {
    throw new JoseError(code, `the ${what} is not valid UTF-8`, { reason: 'utf8' });
  }
}

/** Parses bytes holding a UTF-8 JSON object; anything else throws `code`. */
export function parseJSONObject(bytes: Buffer, what: string, code: JoseErrorCode): Record<string, unknown> {
  return parseJSONBytes(bytes, 0, bytes.length, what, code);
}

/** Parses `bytes[start, end)` holding a UTF-8 JSON object; anything else throws `code`. */
export function parseJSONBytes(
  bytes: Buffer,
  start: number,
  end: number,
  what: string,
  code: JoseErrorCode,
): Record<string, unknown> {
  return parseJSONText(utf8Text(bytes, start, end, what, code), what, code);
}

/** Parses text holding a JSON object; anything else throws `code`. */
function parseJSONText(text: string, what: string, code: JoseErrorCode): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JoseError(code, `the ${what} is not valid JSON`, { reason: 'json' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JoseError(code, `the ${what} must be a JSON object`, { reason: 'not_object' });
  }
  return value as Record<string, unknown>;
}

/** Decodes a segment holding a UTF-8 JSON object; anything else throws `code`. */
export function decodeJSONObject(
  segment: string,
  what: string,
  code: JoseErrorCode,
): Record<string, unknown> {
  return parseJSONObject(decodeSegment(segment, what, code), what, code);
}

const REGISTERED_HEADER = new Set([
  'alg',
  'jku',
  'jwk',
  'kid',
  'x5u',
  'x5c',
  'x5t',
  'x5t#S256',
  'typ',
  'cty',
  'crit',
]);

/**
 * Parses and checks a protected header against an allow-list: `alg` present, a string, not `none` in any casing,
 * and allowed (exact match); `crit` well formed and then refused, since Jot implements no extension; `b64: false`
 * refused (RFC 7797); `kid`, `typ`, `cty` strings. `jku`, `x5u`, `jwk`, `x5c` are never read.
 */
export function parseHeader(segment: string, allowed: ReadonlySet<string>): ParsedHeader {
  const header = decodeJSONObject(segment, 'JWS header', 'ERR_JWS_INVALID');
  const alg = Object.hasOwn(header, 'alg') ? header.alg : undefined;
  if (typeof alg !== 'string' || alg.length === 0) {
    throw new JoseError('ERR_JOSE_ALG_NOT_ALLOWED', 'the JWS header has no "alg" string', {
      claim: 'alg',
      reason: 'missing',
    });
  }
  if (alg.toLowerCase() === 'none') {
    throw new JoseError('ERR_JOSE_ALG_NOT_ALLOWED', 'unsecured tokens ("alg": "none") are never accepted', {
      claim: 'alg',
      reason: 'none',
    });
  }
  const spec = allowed.has(alg) ? ALGORITHMS.get(alg) : undefined;
  if (spec === undefined) {
    // The token's own text is never echoed: it ends up in logs and HTTP headers.
    throw new JoseError('ERR_JOSE_ALG_NOT_ALLOWED', "the token's algorithm is not allowed", {
      claim: 'alg',
      reason: 'not_allowed',
    });
  }
  if (Object.hasOwn(header, 'crit')) checkCrit(header);
  if (Object.hasOwn(header, 'b64')) {
    if (typeof header.b64 !== 'boolean') throw invalidParam('b64', 'must be a boolean');
    if (!header.b64) {
      throw new JoseError('ERR_JWS_UNSUPPORTED', 'unencoded payloads ("b64": false) are not supported', {
        claim: 'b64',
        reason: 'unsupported',
      });
    }
  }
  for (const name of ['typ', 'cty'] as const) {
    if (Object.hasOwn(header, name) && typeof header[name] !== 'string')
      throw invalidParam(name, 'must be a string');
  }
  let kid: string | undefined;
  if (Object.hasOwn(header, 'kid')) {
    if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > MAX_KID_LENGTH) {
      throw invalidParam('kid', `must be a string of 1 to ${MAX_KID_LENGTH} characters`);
    }
    kid = header.kid;
  }
  // Deeply frozen: a verifier's header cache hands this object to every token with the same header text, so a
  // caller changing a nested member (a `jwk`, say) must not change what later tokens see.
  return Object.freeze({ header: deepFreeze(header) as Readonly<JWSHeader>, spec, kid });
}

/** Freezes `value` and everything in it, with a stack of its own: a hostile header may nest thousands deep. */
function deepFreeze<T>(value: T): T {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'object' && next !== null && !Object.isFrozen(next)) {
      Object.freeze(next);
      pending.push(...(Object.values(next) as unknown[]));
    }
  }
  return value;
}

function checkCrit(header: Record<string, unknown>): void {
  const crit = header.crit;
  if (!Array.isArray(crit) || crit.length === 0) throw invalidParam('crit', 'must be a non-empty array');
  for (const name of crit as unknown[]) {
    if (typeof name !== 'string') throw invalidParam('crit', 'must list strings');
    if (REGISTERED_HEADER.has(name))
      throw invalidParam('crit', `must not list the registered parameter ${name}`);
    if (!Object.hasOwn(header, name))
      throw invalidParam('crit', 'lists a parameter the header does not have');
  }
  throw new JoseError(
    'ERR_JWS_UNSUPPORTED',
    'the token requires a header extension (crit) Jot does not implement',
    {
      claim: 'crit',
      reason: 'unsupported',
    },
  );
}

function invalidParam(name: string, what: string): JoseError {
  return new JoseError('ERR_JWS_INVALID', `JWS header parameter "${name}" ${what}`, {
    claim: name,
    reason: 'type',
  });
}
