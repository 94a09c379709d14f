/**
 * Loads the public test vectors kept in `packages/jose/test/vectors/` (see its README for where each came from).
 * The path is resolved from this file, never from the working directory.
 */
import { readFileSync } from 'node:fs';

import { importJWK, type Key, type VerifyOptions } from '../../src/index.js';

const VECTORS = new URL('../vectors/', import.meta.url);

/** Parses one vector file, e.g. `rfc7520/4_1.rsa_v15_signature.json`. */
export function loadVector<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, VECTORS), 'utf8')) as T;
}

/** RFC 7515 Appendix A as stored in `rfc7515-appendix-a.json`. */
export interface AppendixA {
  unsecured_A5: string;
  vectors: {
    id: string;
    alg: string;
    key: Record<string, string>;
    token: string;
    payload: string;
    deterministic: boolean;
  }[];
}

/** An RFC 7520 / RFC 8037 style example. */
export interface CookbookSignature {
  title: string;
  reproducible?: boolean;
  input: { payload: string; key: Record<string, string>; alg: string };
  signing: { protected: Record<string, unknown>; protected_b64u: string; 'sig-input': string; sig: string };
  output: { compact?: string };
}

/**
 * RFC 7515 Appendix A.1 (HS256) ready to verify: its key, and options with a current date before the payload's `exp`
 * (1300819380). Its signature `dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk` holds both "-" and "_", the two characters
 * where base64url differs from base64, so alphabet tests built on it always have something to swap — a freshly
 * signed token only has them by chance.
 */
export function rfc7515A1(): { token: string; key: Key; options: VerifyOptions } {
  const vector = loadVector<AppendixA>('rfc7515-appendix-a.json').vectors.find((v) => v.id === 'RFC7515-A.1');
  if (vector === undefined) throw new Error('rfc7515-appendix-a.json has no RFC7515-A.1');
  return {
    token: vector.token,
    key: importJWK(vector.key),
    options: { algorithms: ['HS256'], currentDate: new Date(1_300_819_000 * 1000) },
  };
}
