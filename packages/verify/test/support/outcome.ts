/** Small assertions shared by the verifier suites: what a verification came to, and whether a stream is up. */
import { isVerifyError, type Verifier } from '../../src/index.js';

/** `'accepted'`, or the `VerifyError` code the verification failed with (anything else is rethrown). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (err) {
    if (isVerifyError(err)) return err.code;
    throw err;
  }
}

/** A condition for `waitFor`: the verifier's revocation stream is connected. */
export const connected = (verifier: Verifier) => (): boolean =>
  verifier.stats().revocation.connected === true;
