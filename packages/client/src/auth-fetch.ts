/**
 * The authenticating `fetch`: requests to the Jot server get the access token (memory and bearer modes) or the
 * CSRF header on unsafe methods (cookie mode); a stale token is refreshed before sending; a 401 about the access
 * token (token-refusal.ts) leads to one refresh and one retry. A step-up challenge (RFC 9470), which a refresh cannot
 * answer, is reported with `onStepUp` and returned as is; so is any other 401 (a wrong second-factor code, wrong
 * credentials): sending it again would spend a second attempt. Requests to any other URL pass through untouched.
 */
import { HEADERS } from '@jot/contract';

import type { DPoPSigner } from './dpop.js';
import type { SessionState } from './session-state.js';
import { stepUpChallenge, type StepUpChallenge } from './step-up.js';
import { isTokenRefusal } from './token-refusal.js';
import { isUnsafeMethod, type Transport } from './transport.js';
import type { DeliveryMode } from './types.js';

/** What the authenticating fetch needs from its client. */
export interface AuthFetchDeps {
  mode: DeliveryMode;
  transport: Transport;
  state: SessionState;
  credentials: RequestCredentials;
  csrfToken: () => Promise<string | undefined>;
  /** The single-flight refresh. */
  refresh: () => Promise<boolean>;
  /** True when the timer should already have refreshed (throttled tab, sleep, clock jump). */
  isStale: () => boolean;
  /** Set when the session is DPoP-bound: every request to the server carries a proof (RFC 9449 §7). */
  dpop?: DPoPSigner;
  /** Called for a step-up challenge from the server (before the response is returned). */
  onStepUp: (challenge: StepUpChallenge) => void;
}

/** One answer, and the session generation it was sent with. */
interface Attempt {
  response: Response;
  generation: number;
}

/** Sends a copy of `template` with the current access token (and DPoP proof) or, unsafe in cookie mode, CSRF header. */
async function sendOnce(deps: AuthFetchDeps, template: Request): Promise<Attempt> {
  const { mode, state, transport, dpop } = deps;
  const generation = state.generation;
  const request = template.clone();
  const accessToken = state.current?.accessToken;
  if (mode !== 'cookie' && accessToken !== undefined)
    request.headers.set('authorization', `${dpop === undefined ? 'Bearer' : 'DPoP'} ${accessToken}`);
  if (mode === 'cookie' && isUnsafeMethod(request.method)) {
    const csrf = await deps.csrfToken();
    if (csrf !== undefined) request.headers.set(HEADERS.csrf, csrf);
  }
  const response =
    dpop === undefined
      ? await transport.fetch(request)
      : await dpop.send(request, accessToken, (r) => transport.fetch(r));
  return { response, generation };
}

/** Creates the fetch wrapper. */
export function createAuthFetch(
  deps: AuthFetchDeps,
): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> {
  const { transport, state, credentials, refresh } = deps;
  async function authFetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
    // Resolve once: the URL that is checked is the URL that is requested (a `Request` already holds an absolute URL).
    let target: URL;
    try {
      target = transport.resolve(input instanceof Request ? input.url : input);
    } catch {
      // Not a URL at all: let fetch report it, with nothing added.
      return transport.fetch(input, init);
    }
    // Anything not addressed to the Jot server goes out with nothing added: no token, no CSRF header, no cookies.
    if (!transport.isServerUrl(target))
      return transport.fetch(input instanceof Request ? input : target.href, init);
    const template = new Request(input instanceof Request ? input : target.href, { credentials, ...init });
    // Belt and braces: never attach credentials to a request whose final URL is not the one just checked.
    if (template.url !== target.href)
      throw new TypeError('client.fetch: the request URL changed while building it');

    const attempt = (): Promise<Attempt> => sendOnce(deps, template);

    // Refresh first when the timer should already have fired (throttled background tab, sleep, clock jump).
    if (deps.isStale()) await refresh().catch(() => false);
    const first = await attempt();
    if (first.response.status !== 401) return first.response;
    // A step-up challenge: the token is valid but its auth_time too old. A refresh keeps the auth_time, so it would
    // only spend a refresh token; the caller must confirm the password (`reauthenticate`) instead.
    if (await reportStepUp(first.response)) return first.response;
    // Not about the token (a wrong code, wrong credentials): a refresh cannot answer it, and a retry would spend a
    // second attempt. The caller gets it as it came.
    if (!(await isTokenRefusal(first.response))) return first.response;
    // Retry once: if a refresh happened since this request left, use it; otherwise refresh now (single-flight).
    const renewed =
      state.generation !== first.generation
        ? state.current !== undefined
        : await refresh().catch(() => false);
    if (!renewed) return first.response;
    const second = (await attempt()).response;
    // The expired token hid the step-up challenge the fresh one meets.
    if (second.status === 401) await reportStepUp(second);
    return second;
  }

  async function reportStepUp(response: Response): Promise<boolean> {
    const challenge = await stepUpChallenge(response);
    if (challenge === undefined) return false;
    deps.onStepUp(challenge);
    return true;
  }

  return authFetch;
}
