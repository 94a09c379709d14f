/**
 * The setup of the replicated-revocation tests, over `useIssuerVerifier`: a fresh fake issuer per test and a
 * `build` that makes a verifier with `strategy: 'replicated'` against its feed (its shared secret, a 2 s staleness
 * bound, fast reconnects), on a clock the test moves by hand (`now`) and with a logger whose lines it can read.
 */
import { beforeEach } from 'vitest';

import type { Verifier, VerifierOptions } from '../../src/index.js';
import { SECRET, type FakeIssuer } from '../../../../test-support/fake-issuer.js';
import { useIssuerVerifier } from './issuer-verifier.js';
import { recordingLogger } from './wait.js';

/** The `revocation` option of the replicated strategy. */
export type ReplicatedOptions = Extract<VerifierOptions['revocation'], { strategy: 'replicated' }>;

export interface ReplicatedVerifier {
  /** This test's fake issuer. */
  readonly issuer: FakeIssuer;
  /** This test's logger (every verifier `build` makes logs here). */
  readonly logger: ReturnType<typeof recordingLogger>;
  /** The verifiers' clock, epoch ms; starts at the test's start and moves only when the test moves it. */
  now: number;
  /** A replicated verifier for `issuer`: the shared revocation options, then `revocation`, then `options`. */
  build: (revocation?: Partial<ReplicatedOptions>, options?: Partial<VerifierOptions>) => Verifier;
}

export function useReplicatedVerifier(): ReplicatedVerifier {
  const base = useIssuerVerifier();
  let now = 0;
  let logger = recordingLogger();

  beforeEach(() => {
    now = Date.now();
    logger = recordingLogger();
  });

  return {
    get issuer(): FakeIssuer {
      return base.issuer;
    },
    get logger(): ReturnType<typeof recordingLogger> {
      return logger;
    },
    get now(): number {
      return now;
    },
    set now(value: number) {
      now = value;
    },
    build: (revocation = {}, options = {}) =>
      base.build({
        revocation: {
          strategy: 'replicated',
          secret: SECRET,
          maxStaleness: '2s',
          reconnectDelay: { min: '10ms', max: '50ms' },
          ...revocation,
        },
        clock: () => now,
        logger,
        ...options,
      }),
  };
}
