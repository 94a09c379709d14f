/**
 * Which 401s a refresh can answer: only those about the access token itself (RFC 6750 §3.1) — expired, revoked,
 * not sent, its session ended. Everything else a 401 may say (a wrong second-factor code or passkey answered by a
 * server that still uses 401 for them, wrong credentials, a step-up challenge) is the caller's to handle: refreshing
 * and sending it again would spend a second attempt and rotate the refresh token for nothing.
 *
 * The `WWW-Authenticate` challenge decides when it is readable (the Jot server exposes it to cross-origin pages): a
 * `Bearer` or `DPoP` challenge with `error="invalid_token"` or no error (a request without credentials), or a DPoP
 * proof the server wants again (`invalid_dpop_proof`, `use_dpop_nonce`: the retry sends a fresh proof). Without one,
 * the JSON body's `code` (or an `error` of `invalid_token`) decides. A 401 that says nothing at all — no challenge,
 * no JSON `code` or `error`, as a proxy in front of the server may answer — is taken for an expired token, as before.
 */
import { JOSE_ERROR_CODES } from '@jot/contract';

import { challengeParams } from './step-up.js';

/** Challenge errors (RFC 6750 §3.1, RFC 9449 §7.1) a refreshed token and a fresh proof can answer. */
const TOKEN_CHALLENGE_ERRORS: ReadonlySet<string> = new Set([
  'invalid_token',
  'invalid_dpop_proof',
  'use_dpop_nonce',
]);

/**
 * `code`s of a refused access token, what the Jot server and every `@jot/verify` resource server send: the token's
 * own verification (`@jot/jose`: signature, expiry, claims, DPoP binding), no token, a revoked token, an ended
 * session, a plain token where an encrypted one is required.
 */
const TOKEN_CODES: ReadonlySet<string> = new Set<string>([
  ...JOSE_ERROR_CODES,
  'ERR_AUTH_REQUIRED',
  'ERR_TOKEN_REVOKED',
  'ERR_SESSION_ENDED',
  'ERR_VERIFY_NOT_ENCRYPTED',
]);

/** The `Bearer` or `DPoP` challenge of a `WWW-Authenticate` value, or undefined when it offers neither scheme. */
function tokenChallenge(header: string): string | undefined {
  // Several challenges may share the value (`Bearer realm="jot", DPoP algs="ES256"`): the parameters read are those
  // from the first Bearer or DPoP challenge on, which is where the server puts its `error`.
  const start = header.search(/(?:^|[\s,])(?:Bearer|DPoP)(?=\s|$|,)/i);
  return start < 0 ? undefined : header.slice(start);
}

/**
 * Whether a 401 is about the access token, so that one refresh and one retry may answer it. Reads the body of a
 * clone only when no challenge is readable (the response itself stays unread).
 */
export async function isTokenRefusal(response: Response): Promise<boolean> {
  if (response.status !== 401) return false;
  const header = response.headers.get('www-authenticate');
  const challenge = header === null ? undefined : tokenChallenge(header);
  if (challenge !== undefined) {
    const error = challengeParams(challenge).get('error');
    return error === undefined || TOKEN_CHALLENGE_ERRORS.has(error);
  }
  if (response.bodyUsed || !/\bjson\b/i.test(response.headers.get('content-type') ?? ''))
    return header === null;
  let body: unknown;
  try {
    body = await response.clone().json();
  } catch {
    return header === null;
  }
  const { code, error } = (typeof body === 'object' && body !== null ? body : {}) as {
    code?: unknown;
    error?: unknown;
  };
  if ((typeof code === 'string' && TOKEN_CODES.has(code)) || error === 'invalid_token') return true;
  return typeof code !== 'string' && typeof error !== 'string' && header === null;
}
