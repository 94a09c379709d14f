/**
 * The setup most verifier tests share: a fresh fake issuer per test, and a `build` that creates verifiers for it
 * (its issuer and audience, no revocation, a recording logger, plus the file's and the test's options), closing
 * the issuer and every verifier built after each test; or, for tests that share one, a fake issuer and such a
 * verifier started once.
 */
import { afterEach, beforeEach } from 'vitest';

import { createVerifier, type Verifier, type VerifierOptions } from '../../src/index.js';
import { AUDIENCE, startFakeIssuer, type FakeIssuer } from '../../../../test-support/fake-issuer.js';
import { recordingLogger } from './wait.js';

export interface IssuerVerifier {
  /** This test's fake issuer. */
  readonly issuer: FakeIssuer;
  /** A verifier for `issuer`: `defaults`, then `options`, over the shared base; each closed after the test. */
  build: (options?: Partial<VerifierOptions>) => Verifier;
}

/**
 * For a `beforeAll`: a fake issuer and a ready verifier for it (its issuer and audience, no revocation, a recording
 * logger), for the tests to share; the caller closes both.
 */
export async function startIssuerVerifier(): Promise<{ issuer: FakeIssuer; verifier: Verifier }> {
  const issuer = await startFakeIssuer();
  const verifier = createVerifier({
    issuer: issuer.url,
    audience: AUDIENCE,
    revocation: 'none',
    logger: recordingLogger(),
  });
  try {
    await verifier.ready();
  } catch (err) {
    await verifier.close();
    await issuer.close();
    throw err;
  }
  return { issuer, verifier };
}

export function useIssuerVerifier(defaults: Partial<VerifierOptions> = {}): IssuerVerifier {
  let issuer: FakeIssuer | undefined;
  const built: Verifier[] = [];

  beforeEach(async () => {
    issuer = await startFakeIssuer();
  });

  afterEach(async () => {
    // Every verifier is closed (one failing close does not cut the others short) before the issuer goes.
    const closed = await Promise.allSettled(built.splice(0).map((verifier) => verifier.close()));
    await issuer?.close();
    issuer = undefined;
    const failed = closed.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  });

  const harness: IssuerVerifier = {
    get issuer(): FakeIssuer {
      if (issuer === undefined) throw new Error('the fake issuer runs only inside a test');
      return issuer;
    },
    build: (options = {}) => {
      const verifier = createVerifier({
        issuer: harness.issuer.url,
        audience: AUDIENCE,
        revocation: 'none',
        logger: recordingLogger(),
        ...defaults,
        ...options,
      });
      built.push(verifier);
      return verifier;
    },
  };
  return harness;
}
