/**
 * Step-up authentication (RFC 9470): a `401` whose Bearer challenge says `error="insufficient_user_authentication"`
 * means the token is fine but the user signed in too long ago for this action. A refresh cannot help (the new
 * token keeps the session's `auth_time`), so the client does not refresh: the caller confirms the password with
 * `client.reauthenticate()` and retries.
 *
 * The `WWW-Authenticate` header is the standard signal; the JSON body's `error` is the fallback for cross-origin
 * callers, to whom the server does not expose that header.
 */
import { JotClientError } from './errors.js';

/** The RFC 9470 error code. */
export const STEP_UP_ERROR = 'insufficient_user_authentication';

/** What a step-up challenge asks for. */
export interface StepUpChallenge {
  /** The largest acceptable age of the authentication, in seconds (`max_age`), when the server said. */
  maxAge: number | undefined;
  /**
   * The acceptable authentication levels (`acr_values`), when the server said: `aal2` asks for a second factor
   * (`client.stepUp(proof)`) rather than the password.
   */
  acrValues: string | undefined;
}

// One auth-param (RFC 9110 §11.2): a token name, "=", then a token or a quoted string. A quoted string is consumed
// whole, so an `error="…"` inside an error_description is never read as a parameter of its own.
const AUTH_PARAM = /([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^\s,"]+)/g;

/** The auth-params of a `WWW-Authenticate` value, lower-cased names, unquoted values (the first of each name wins). */
export function challengeParams(header: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const [, name, raw] of header.matchAll(AUTH_PARAM)) {
    const key = name!.toLowerCase();
    const value = raw!.startsWith('"') ? raw!.slice(1, -1).replace(/\\(.)/g, '$1') : raw!;
    if (!params.has(key)) params.set(key, value);
  }
  return params;
}

function maxAgeOf(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return undefined;
  return Number(value);
}

/**
 * The step-up challenge of `response`, or undefined when it is not one. Reads the body of a clone only when the
 * challenge header is missing (the response itself stays unread).
 */
export async function stepUpChallenge(response: Response): Promise<StepUpChallenge | undefined> {
  if (response.status !== 401) return undefined;
  const header = response.headers.get('www-authenticate');
  if (header !== null) {
    const params = challengeParams(header);
    const error = params.get('error');
    if (error === STEP_UP_ERROR) {
      return { maxAge: maxAgeOf(params.get('max_age')), acrValues: params.get('acr_values') };
    }
    // The header names another error: it is authoritative.
    if (error !== undefined) return undefined;
  }
  if (response.bodyUsed || !/\bjson\b/i.test(response.headers.get('content-type') ?? '')) return undefined;
  try {
    const body: unknown = await response.clone().json();
    if (typeof body === 'object' && body !== null && (body as { error?: unknown }).error === STEP_UP_ERROR)
      return { maxAge: undefined, acrValues: undefined };
  } catch {
    // Not JSON after all: not a step-up challenge.
  }
  return undefined;
}

/**
 * True when `response` is a step-up challenge (`401` with `insufficient_user_authentication`): confirm the password
 * with `client.reauthenticate(password)`, then retry the request. The response's body is left unread.
 *
 * @example
 * const res = await jot.fetch(`/api/admin/users/${id}/disable`, { method: 'POST' });
 * if (await isStepUpRequired(res)) { await jot.reauthenticate(await askPassword()); ... }
 */
export async function isStepUpRequired(response: Response): Promise<boolean> {
  return (await stepUpChallenge(response)) !== undefined;
}

/**
 * True when `err` is the `JotClientError` of a step-up challenge (what `client.json()` throws for one): confirm the
 * password with `client.reauthenticate(password)` — or, for a user with a second factor, the factor with
 * `client.stepUp(proof)` — and try again.
 */
export function isStepUpError(err: unknown): err is JotClientError {
  return err instanceof JotClientError && err.status === 401 && err.error === STEP_UP_ERROR;
}
