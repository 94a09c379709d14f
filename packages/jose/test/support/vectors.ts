/**
 * Loads the public test vectors kept in `packages/jose/test/vectors/` (see its README for where each came from).
 * The path is resolved from this file, never from the working directory.
 */
import { readFileSync } from 'node:fs';

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
