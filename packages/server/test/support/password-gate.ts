/**
 * Test helper for bursts of password guesses: holds every password check (`passwords.verify`, and `verifyDummy`
 * for unknown addresses) of the given servers at a gate until each of the `attempts` requests has either reached a
 * check or been answered without one. So every request of the burst is in flight at once whatever the machine's
 * speed — a check the throttle should have refused cannot finish (and count) before the others have passed the
 * lock — and the checks are counted. No timing involved: the gate opens on counts.
 */
import type { TestResponse, TestServer } from './jot-server.js';

export interface PasswordGate {
  /** Sends one request of the burst (it counts as answered when its answer arrives). */
  send(request: () => Promise<TestResponse>): Promise<TestResponse>;
  /** How many passwords were checked (real and dummy). */
  readonly checked: number;
  /** Resolves once `n` checks have reached the gate. */
  reached(n: number): Promise<void>;
  /** Puts the servers' password checks back. */
  restore(): void;
}

/** Gates the password checks of `servers` for a burst of `attempts` requests. */
export function gatePasswordChecks(servers: readonly TestServer[], attempts: number): PasswordGate {
  let checked = 0;
  let answered = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const waiting: Array<{ n: number; resolve: () => void }> = [];
  const settle = (): void => {
    if (checked + answered >= attempts) open();
    for (const w of waiting.filter((w) => checked >= w.n)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  };
  const restores: Array<() => void> = [];
  for (const server of servers) {
    const passwords = server.app.jot.passwords;
    const verify = passwords.verify.bind(passwords);
    const verifyDummy = passwords.verifyDummy.bind(passwords);
    passwords.verify = async (hash, password) => {
      checked++;
      settle();
      await gate;
      return verify(hash, password);
    };
    passwords.verifyDummy = async (password) => {
      checked++;
      settle();
      await gate;
      return verifyDummy(password);
    };
    restores.push(() => {
      passwords.verify = verify;
      passwords.verifyDummy = verifyDummy;
    });
  }
  return {
    async send(request) {
      try {
        return await request();
      } finally {
        answered++;
        settle();
      }
    },
    get checked() {
      return checked;
    },
    reached(n) {
      return checked >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve }));
    },
    restore() {
      for (const restore of restores) restore();
    },
  };
}
