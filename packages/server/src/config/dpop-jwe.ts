/**
 * Parsers of the DPoP and token-encryption settings: the proof algorithm list (asymmetric only) and the audience →
 * encryption-key map, given inline as JSON or as the path of a JSON file. Each key is imported once here, so a bad
 * key stops the server at start instead of failing its first token.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import {
  DPOP_ALGORITHMS,
  importEncryptionKey,
  isAlgorithm,
  isJoseError,
  type Algorithm,
  type JWK,
} from '@jot/jose';

import * as p from './parsers.js';

/** `JOT_DPOP_ALGS`: a comma list of asymmetric JWS algorithms. */
export function dpopAlgorithms(value: unknown): Algorithm[] {
  const items = p.list(value);
  if (items.length === 0) throw new p.Invalid('expected one or more algorithms');
  for (const item of items) {
    if (!isAlgorithm(item) || !DPOP_ALGORITHMS.includes(item)) {
      throw new p.Invalid(`expected algorithms among ${DPOP_ALGORITHMS.join(', ')}`);
    }
  }
  return items as Algorithm[];
}

/**
 * `JOT_ENCRYPTION_KEYS`: `{"<audience>": <JWK>, …}` inline, or a file path holding that JSON. Public JWKs
 * encrypt; a private one (needed for the server's own audiences, `JOT_AUDIENCE`) also decrypts.
 */
export function encryptionKeys(value: unknown, cwd: string): Record<string, JWK> {
  const text = p.string(value).trim();
  let json: string;
  if (text.startsWith('{')) {
    json = text;
  } else {
    try {
      json = readFileSync(resolve(cwd, text), 'utf8');
    } catch {
      throw new p.Invalid('expected a JSON object or the path of a readable JSON file');
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new p.Invalid('the encryption keys are not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new p.Invalid('expected a JSON object mapping audiences to public JWKs');
  }
  const keys: Record<string, JWK> = {};
  for (const [audience, jwk] of Object.entries(parsed)) {
    if (audience.length === 0) throw new p.Invalid('an audience must not be empty');
    try {
      const key = importEncryptionKey(jwk);
      // A private JWK is kept whole: the server needs it to read tokens for audiences it accepts itself.
      keys[audience] = key.type === 'private' ? { ...(jwk as JWK), alg: key.alg } : { ...key.publicJwk };
    } catch (err) {
      if (isJoseError(err)) throw new p.Invalid(`the key of "${audience}": ${err.message}`);
      throw err;
    }
  }
  return keys;
}

/**
 * The encryption rule's consequences for the server's own audiences: its tokens (aud = `JOT_AUDIENCE`) are
 * encrypted when every one of those audiences registered the same key, and then the server must hold the private
 * key to read them. Returns a message for the first violation.
 */
export function checkOwnAudiences(
  audience: readonly string[],
  keys: Readonly<Record<string, JWK>>,
): string | undefined {
  const registered = audience.filter((aud) => Object.hasOwn(keys, aud));
  if (registered.length === 0) return undefined;
  if (registered.length !== audience.length) {
    return `registers a key for ${registered.join(', ')} but not for every JOT_AUDIENCE entry: a token for several audiences is encrypted to one key, so register the same key for all of them or for none`;
  }
  const thumbprints = new Set(registered.map((aud) => importEncryptionKey(keys[aud]).publicJwk.kid));
  if (thumbprints.size > 1)
    return 'registers different keys for the JOT_AUDIENCE entries; a token has one recipient';
  if (registered.some((aud) => keys[aud]?.d === undefined)) {
    return 'must hold the private JWK for the JOT_AUDIENCE entries: the server reads its own access tokens';
  }
  return undefined;
}
