/**
 * A dependency loaded at its first use rather than with the server, for the heavy ones only some deployments or
 * requests need (passkeys, SMTP, Redis): `const lib = lazyImport(() => import('x'))`, then `await lib.load()` where
 * it is used. Concurrent first calls share one load (the promise is kept). A load that fails is not kept: each call
 * that needs the dependency rejects with the loader's own error — there is no fallback — and a later one tries again.
 */

/** A cached dynamic import. */
export interface LazyImport<T> {
  /** The module, loading it on the first call. */
  load(): Promise<T>;
  /** The module once a load has finished, else undefined (never starts one). */
  loaded(): T | undefined;
}

/** Wraps `load` (a dynamic `import()`) so that it runs at the first call, once. */
export function lazyImport<T>(load: () => Promise<T>): LazyImport<T> {
  let loading: Promise<T> | undefined;
  let module: T | undefined;
  return {
    load: () =>
      (loading ??= load().then(
        (loaded) => (module = loaded),
        (err: unknown) => {
          loading = undefined;
          throw err;
        },
      )),
    loaded: () => module,
  };
}
