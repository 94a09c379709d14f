/** A Web Locks stand-in for the client's cross-tab tests: one holder per name, FIFO, the next holder granted a few ms after release. */
export function fakeLocks(grantDelayMs = 5): {
  request<T>(name: string, cb: () => Promise<T>): Promise<T>;
  granted: number;
} {
  const tails = new Map<string, Promise<unknown>>();
  const locks = {
    granted: 0,
    request<T>(name: string, cb: () => Promise<T>): Promise<T> {
      const previous = tails.get(name);
      const run = (async () => {
        if (previous !== undefined) {
          await previous.catch(() => undefined);
          await new Promise((r) => setTimeout(r, grantDelayMs));
        }
        locks.granted++;
        return cb();
      })();
      tails.set(name, run);
      return run;
    },
  };
  return locks;
}
