/** What a `@jot/verify` verifier made of a token, as one comparable string. */
import { isVerifyError, type Verifier } from '@jot/verify';

/** `accepted`, or the refusal's code and (when it has one) its reason: `ERR_VERIFY_REVOCATION_REFUSED deployment`. */
export async function verifyOutcome(verifier: Verifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return 'accepted';
  } catch (err) {
    if (isVerifyError(err)) return err.reason === undefined ? err.code : `${err.code} ${err.reason}`;
    throw err;
  }
}
