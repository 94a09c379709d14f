/**
 * Whether a failed revocation check was refused or merely unanswered. Only an outage — no answer at all (network
 * error, timeout) or a server error that says so (500, 502, 503, 504) — may fail open with `failOpen`. Every other
 * answer is a refusal and always fails closed (`ERR_VERIFY_REVOCATION_REFUSED`): a 4xx (rate limited, secret
 * refused, address locked), a redirect, or a 2xx whose body is not the answer asked for (a proxy's page, an entry
 * the verifier cannot apply: `UnusableAnswer`). Otherwise whoever can make the issuer or a proxy refuse would make
 * revoked tokens pass.
 */
import { FetchError } from '../http.js';

/** Statuses that announce an outage of the answering server (RFC 9110 §15.6), not a judgement on the request. */
const OUTAGE_STATUSES = new Set([500, 502, 503, 504]);

/**
 * The feed answered (2xx), but with something this verifier cannot use: not a feed page, an entry of a kind it does
 * not know, an event past the size limit. A refusal, never an outage: `failOpen` must not accept tokens because the
 * feed says something the verifier cannot apply.
 */
export class UnusableAnswer extends FetchError {}

/** True when `err` is an answer that refused (or was not) the check, rather than no answer at all. */
export function isRefusal(err: unknown): boolean {
  if (err instanceof UnusableAnswer) return true;
  // A redirect refused by `fetch` (`redirect: 'error'`) is a network error, wrapped in a FetchError or not.
  if (!(err instanceof FetchError) || err.status === undefined) return causedByRedirect(err);
  if (err.status === 408) return false; // the server gave up waiting: an outage
  return !OUTAGE_STATUSES.has(err.status);
}

/** `fetch` with `redirect: 'error'` rejects a redirect as a network error; its cause says so. */
function causedByRedirect(err: unknown): boolean {
  // A FetchError's own message names the URL, which may say anything: only what it wraps is read.
  const first = err instanceof FetchError ? err.cause : err;
  for (let cause: unknown = first, depth = 0; cause instanceof Error && depth < 5; depth++) {
    if (/redirect/i.test(cause.message)) return true;
    cause = cause.cause;
  }
  return false;
}
