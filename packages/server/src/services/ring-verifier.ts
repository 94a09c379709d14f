/**
 * A JWT verifier over the server's own key ring whose algorithm allow-list is the algorithms of the published keys
 * (each key bound to its one algorithm). It is rebuilt when that set changes, never per call.
 */
import { createVerifier, type JWTVerifier, type VerifyOptions } from '@jot/jose';

import type { KeyManager } from '../keys/types.js';

/**
 * Returns the verifier for the ring's current algorithms with `options`; `onRebuild` runs each time the set of
 * algorithms changed and a new verifier was made (the first call included).
 */
export function ringVerifier(
  keys: KeyManager,
  options: Omit<VerifyOptions, 'algorithms'>,
  onRebuild?: () => void,
): () => JWTVerifier {
  let current: { algs: string; verify: JWTVerifier } | undefined;
  return () => {
    const algs = [...new Set(keys.list().map((k) => k.alg))].sort();
    const id = algs.join(',');
    if (current?.algs !== id) {
      onRebuild?.();
      current = { algs: id, verify: createVerifier(keys, { ...options, algorithms: algs }) };
    }
    return current.verify;
  };
}
