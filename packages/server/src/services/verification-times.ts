/**
 * How long a password verification takes, remembered per argon2 parameter set: the failure floor that every failed
 * sign-in is padded to (see services/passwords.ts) is the slowest recent verification of the costliest set seen in
 * the last day. Kept per set, so a flood of cheap verifications cannot make the server forget how long an old hash
 * takes (then probe one address and see it stand out).
 */

/** How many recent verification times are kept per parameter set (the slowest of them is the set's cost). */
const RECENT_VERIFICATIONS = 9;
/** A parameter set no hash was verified with for this long no longer sets the floor. */
const PARAMS_FORGOTTEN_AFTER_MS = 86_400_000;
/** At most this many parameter sets are remembered (the oldest seen is dropped first). */
export const MAX_PARAMETER_SETS = 16;
/** The failure floor never exceeds this, whatever a slow moment measured. */
export const FAILURE_FLOOR_CAP_MS = 2000;

/**
 * The parameter part of a PHC string (`m=…,t=…,p=…`), which decides the cost of verifying it; sorted, since bindings
 * write the same parameters in different orders (`m,p,t` by the `argon2` package, `m,t,p` by `@node-rs/argon2`).
 */
function parametersOf(hash: string): string {
  return hash.split('$')[3]?.split(',').sort().join(',') ?? 'unparsable';
}

/** Verification times per parameter set. */
export interface VerificationTimes {
  /** Records that verifying `hash` took `ms`. */
  remember(hash: string, ms: number): void;
  /** The slowest recent time of any set seen in the last day, capped at `FAILURE_FLOOR_CAP_MS` (0 when none). */
  floor(): number;
}

/** An empty memory of verification times. */
export function createVerificationTimes(): VerificationTimes {
  /** Per parameter set: the last verification times, and when it was last seen (Date.now()). */
  const costs = new Map<string, { times: number[]; seenAt: number }>();
  return {
    remember(hash, ms) {
      const key = parametersOf(hash);
      const entry = costs.get(key) ?? { times: [], seenAt: 0 };
      costs.delete(key); // re-inserted below: the map stays ordered by when each set was last seen
      entry.times.push(ms);
      if (entry.times.length > RECENT_VERIFICATIONS) entry.times.shift();
      entry.seenAt = Date.now();
      costs.set(key, entry);
      while (costs.size > MAX_PARAMETER_SETS) costs.delete(costs.keys().next().value!);
    },
    floor() {
      const now = Date.now();
      let slowest = 0;
      for (const [key, entry] of costs) {
        if (now - entry.seenAt > PARAMS_FORGOTTEN_AFTER_MS) costs.delete(key);
        else slowest = Math.max(slowest, ...entry.times);
      }
      return Math.min(FAILURE_FLOOR_CAP_MS, slowest);
    },
  };
}
