/**
 * A real store with a test hook around one of its methods, to widen a race window deterministically: the hook runs
 * in the middle of a request (for example a second request that commits in between) and the request then goes on
 * against the real database. Hooks are armed for one matching call and disarm themselves before running, so the
 * requests a hook makes pass straight through.
 */
import type { Store } from '../../src/store/index.js';

type Method = {
  [K in keyof Store]: Store[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof Store];

type Around<K extends Method> = (
  call: () => ReturnType<Store[K]>,
  args: Parameters<Store[K]>,
) => ReturnType<Store[K]>;

/** A store whose methods can be intercepted once. */
export interface HookedStore {
  store: Store;
  /**
   * The next call of `name` for which `matches(args)` holds runs `around(call, args)` instead, where `call()` is
   * the real method. Resolves once that call has finished (its result or error), so a test can wait for it.
   */
  once<K extends Method>(
    name: K,
    around: Around<K>,
    matches?: (args: Parameters<Store[K]>) => boolean,
  ): Promise<void>;
}

/** Wraps `real`; every method not intercepted is the real one, bound to the real store. */
export function hookStore(real: Store): HookedStore {
  const armed = new Map<
    string,
    Array<{ around: Around<Method>; matches: (args: never) => boolean; done: () => void }>
  >();
  const store = new Proxy(real, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver === store ? target : receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const hooks = armed.get(String(property));
        const index = hooks?.findIndex((h) => h.matches(args as never)) ?? -1;
        if (hooks === undefined || index < 0) return method.apply(target, args);
        const [hook] = hooks.splice(index, 1);
        const result = (hook!.around as (call: () => unknown, a: unknown[]) => Promise<unknown>)(
          () => method.apply(target, args),
          args,
        );
        void Promise.resolve(result).then(hook!.done, hook!.done);
        return result;
      };
    },
  });
  return {
    store,
    once(name, around, matches = () => true) {
      return new Promise<void>((resolve) => {
        const list = armed.get(name) ?? [];
        list.push({
          around: around,
          matches: matches,
          done: () => resolve(),
        });
        armed.set(name, list);
      });
    },
  };
}
