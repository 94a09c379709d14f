/**
 * `@jot/server`, loaded when a command that uses it runs, not when `jot` starts: `jot --help`, `kek`, `secret`,
 * `keygen`, `decode`, `verify` and `sign` never load the server, which was most of `jot`'s start-up time. Commands
 * import its types only and take its values from `await jotServer()`. One load per process, shared by concurrent
 * callers; a load that fails rejects with its own error (the command fails with it) and is tried again by the next
 * call.
 */
import type * as JotServer from '@jot/server';

let loading: Promise<typeof JotServer> | undefined;

/** The `@jot/server` module, loaded on the first call. */
export function jotServer(): Promise<typeof JotServer> {
  return (loading ??= import('@jot/server').catch((err: unknown) => {
    loading = undefined;
    throw err;
  }));
}
