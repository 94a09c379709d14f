/**
 * The `jose` package, which only the JWE layer uses, loaded at the first encryption or decryption rather than with
 * `@jot/jose`: most users never encrypt a token, and it is a few dozen modules to load. Concurrent first calls share
 * one load; a load that fails is not kept, so each call rejects with the loader's own error and a later one retries.
 */
import type * as Jose from 'jose';

let loading: Promise<typeof Jose> | undefined;

/** The `jose` package, loaded on the first call. */
export function loadJose(): Promise<typeof Jose> {
  return (loading ??= import('jose').catch((err: unknown) => {
    loading = undefined;
    throw err;
  }));
}
