/** Small assertions shared by the verifier suites: what a verification came to, and whether a stream is up. */
import { isVerifyError, type Verifier, type VerifyError } from '../../src/index.js';

/** `'accepted'`, or what `name` makes of the `VerifyError` the verification failed with (anything else is rethrown). */
async function settled(promise: Promise<unknown>, name: (err: VerifyError) => string): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (err) {
    if (isVerifyError(err)) return name(err);
    throw err;
  }
}

/** `'accepted'`, or the `VerifyError` code the verification failed with (anything else is rethrown). */
export function codeOf(promise: Promise<unknown>): Promise<string> {
  return settled(promise, (err) => err.code);
}

/**
 * `'accepted'`, or the `VerifyError` code the verification failed with and its reason when it has one
 * (`'ERR_TOKEN_REVOKED jti'`); anything else is rethrown.
 */
export function outcomeOf(promise: Promise<unknown>): Promise<string> {
  return settled(promise, (err) => (err.reason === undefined ? err.code : `${err.code} ${err.reason}`));
}

/** A condition for `waitFor`: the verifier's revocation stream is connected. */
export const connected = (verifier: Verifier) => (): boolean =>
  verifier.stats().revocation.connected === true;
