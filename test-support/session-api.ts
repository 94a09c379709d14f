/**
 * The session half of the fake Jot issuer, as a `fetch`: the first-party endpoints `@jot/client` calls (sign-in,
 * refresh, the refresh CSRF bootstrap, renewal, whoami, sign-out, re-authentication), answering in the wire shapes
 * of `@jot/contract` with real access tokens from a {@link TokenIssuer}. It rotates refresh tokens and flags a spent
 * one as reuse, checks the CSRF header on cookie-authenticated unsafe requests, and keeps one cookie jar — shared by
 * every client using it, like the tabs of one browser. Like the real server, every access token carries the
 * session's `auth_time` (a refresh keeps it, `POST /api/reauth` renews it) and `PUT /api/admin/thing` asks for a
 * step-up (RFC 9470 §3) when that is older than `stepUpMaxAge` seconds. In memory, so fake timers drive it.
 */
import { randomBytes } from 'node:crypto';

import {
  ENDPOINTS,
  FIRST_PARTY_CLIENT_ID,
  HEADERS,
  isSessionDelivery,
  SESSION_DELIVERIES,
  type AccessTokenClaims,
  type ErrorBody,
  type LoginBody,
  type ReauthBody,
  type SessionDelivery,
  type SessionTokenResponse,
  type WhoAmIResponse,
} from '@jot/contract';

import { AUDIENCE, createTokenIssuer, csrfHash, type TokenIssuer } from './token-issuer.js';

/** The `fetch` signature `@jot/client` takes. */
export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export interface FakeServer {
  fetch: FetchLike;
  /** The issuer that signs the access tokens (its JWKS verifies them). */
  tokens: TokenIssuer;
  /** Every access token issued, in order (real JWTs). */
  accessTokens: string[];
  /** Requests seen, as "METHOD /path". */
  calls: string[];
  count(call: string): number;
  reuse: number;
  jar: { at?: string; rt?: string };
  /** Revokes every access token issued so far (they answer 401 until refreshed). */
  revokeAccessTokens(): void;
  /** Makes refresh fail as the server does for an ended session. */
  endSession(): void;
  ttlSeconds: number;
  /** The Authorization header of each request, in order. */
  authHeaders: (string | null)[];
  /** Step-up limit of `PUT /api/admin/thing`, in seconds. */
  stepUpMaxAge: number;
  /** Send the step-up challenge in `WWW-Authenticate` (false: only in the JSON body, as a cross-origin page sees it). */
  stepUpHeader: boolean;
  /** The auth_time (epoch ms) of the current session. */
  authTime: number;
  /** The server's `JOT_TOKEN_MODE=single`: no refresh token; the access token is renewed (`POST /api/token/renew`). */
  singleToken: boolean;
}

/** The password every account of the fake has. */
export const FAKE_PASSWORD = 'pw';
/** The session's anti-CSRF token. */
export const FAKE_CSRF = 'csrf-token-1';
const USER_ID = 'u1';

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

function error(status: number, body: ErrorBody, headers?: Record<string, string>): Response {
  return json(status, body, headers);
}

const unauthorized = (): Response =>
  error(401, { error: 'invalid_token', error_description: 'no', code: 'ERR_AUTH_REQUIRED' });
const csrfRefused = (): Response =>
  error(403, { error: 'invalid_request', error_description: 'csrf', code: 'ERR_CSRF' });
const wrongPassword = (status: 401 | 403): Response =>
  error(status, {
    error: 'invalid_grant',
    error_description: 'the password is incorrect',
    code: 'ERR_INVALID_CREDENTIALS',
  });

const invalidDelivery = (): Response =>
  error(400, {
    error: 'invalid_request',
    error_description: `body/delivery must be one of ${SESSION_DELIVERIES.join(', ')}`,
    code: 'ERR_VALIDATION',
  });

/** A parsed JSON body: any of the members the routes read, each unchecked until a route checks it. */
type AnyBody = Partial<Record<keyof LoginBody | keyof ReauthBody | 'refresh_token', unknown>>;

/** One request as the routes see it. */
interface Call {
  req: Request;
  body: AnyBody;
  /** The access token presented (Authorization, else the jar's cookie) and its claims when it is live. */
  token: string | undefined;
  claims: AccessTokenClaims | undefined;
  bearer: boolean;
  csrfOk: boolean;
}

/** A fake session API over `tokens` (a fresh issuer at `http://jot.test` by default). */
export function fakeServer(ttlSeconds = 60, tokens: TokenIssuer = createTokenIssuer()): FakeServer {
  /** Live access tokens and the claims they were signed with. */
  const live = new Map<string, AccessTokenClaims>();
  const spent = new Set<string>();
  let refresh: string | undefined;
  let sid = '';
  let delivery: SessionDelivery = 'bearer';

  /** Signs an access token for the session; `rotate` also issues a new refresh token and spends the old one. */
  const issue = (rotate: boolean): Response => {
    const now = Date.now();
    const claims = {
      iss: tokens.url,
      sub: USER_ID,
      aud: AUDIENCE,
      iat: Math.floor(now / 1000),
      exp: Math.floor((now + server.ttlSeconds * 1000) / 1000),
      jti: randomBytes(12).toString('base64url'),
      client_id: FIRST_PARTY_CLIENT_ID,
      sid,
      ver: 1,
      auth_time: Math.floor(server.authTime / 1000),
      roles: [],
      ...(delivery === 'bearer' ? {} : { cth: csrfHash(FAKE_CSRF) }),
    } satisfies AccessTokenClaims;
    const at = tokens.sign(claims);
    // The fake's clock is milliseconds: a token is live until `ttlSeconds` after issue, to the millisecond.
    live.set(at, { ...claims, exp: (now + server.ttlSeconds * 1000) / 1000 });
    server.accessTokens.push(at);
    const body: SessionTokenResponse = { token_type: 'Bearer', expires_in: server.ttlSeconds };
    if (rotate) {
      const rt = randomBytes(16).toString('base64url');
      if (refresh !== undefined) spent.add(refresh);
      refresh = rt;
      if (delivery === 'bearer') body.refresh_token = rt;
      else server.jar.rt = rt;
    }
    if (delivery === 'cookie') server.jar.at = at;
    else body.access_token = at;
    if (delivery !== 'bearer') body.csrf_token = FAKE_CSRF;
    return json(200, body, { 'cache-control': 'no-store' });
  };

  const login = ({ body }: Call): Response => {
    // Like the real server's body schema: an absent delivery is the default, any other value is refused.
    if (body.delivery !== undefined && !isSessionDelivery(body.delivery)) return invalidDelivery();
    if (body.password !== FAKE_PASSWORD) return wrongPassword(401);
    delivery = body.delivery ?? 'bearer';
    server.authTime = Date.now();
    sid = randomBytes(6).toString('hex');
    return issue(!server.singleToken);
  };

  const refreshRoute = ({ req, body }: Call): Response => {
    const presented = delivery === 'bearer' ? body.refresh_token : server.jar.rt;
    if (delivery !== 'bearer' && req.headers.get(HEADERS.csrf) !== FAKE_CSRF) return csrfRefused();
    if (typeof presented === 'string' && spent.has(presented)) {
      server.reuse++;
      return error(401, {
        error: 'invalid_grant',
        error_description: 'reuse',
        code: 'ERR_REFRESH_TOKEN_REUSED',
      });
    }
    if (presented === undefined || presented !== refresh) return unauthorized();
    return issue(true);
  };

  /** Routes that need a live access token (and the CSRF header when it came as a cookie on an unsafe method). */
  const authenticated: Record<string, (call: Call) => Response> = {
    [`GET ${ENDPOINTS.whoami}`]: ({ claims, bearer }) => {
      const who: WhoAmIResponse = {
        claims: { ...claims!, exp: Math.floor(claims!.exp) },
        user: {
          id: USER_ID,
          email: 'a@b.c',
          name: null,
          roles: [],
          status: 'active',
          email_verified: true,
          created_at: '',
        },
        ...(bearer ? {} : { csrf_token: FAKE_CSRF }),
      };
      return json(200, who);
    },
    [`POST ${ENDPOINTS.logout}`]: () => signOut(),
    [`POST ${ENDPOINTS.logoutAll}`]: () => signOut(),
    [`POST ${ENDPOINTS.reauth}`]: ({ body }) => {
      if (body.password !== FAKE_PASSWORD) return wrongPassword(403);
      server.authTime = Date.now();
      // Re-authentication renews the access token only (as the server's `sessions.reissue` does).
      return issue(false);
    },
    [`POST ${ENDPOINTS.renew}`]: ({ token }) => {
      live.delete(token!); // single-token mode: the renewed token is spent
      return issue(false);
    },
    'PUT /api/admin/thing': ({ claims }) => {
      const age = Math.floor(Date.now() / 1000) - claims!.auth_time!;
      return age > server.stepUpMaxAge ? stepUpChallenge() : json(200, { ok: true });
    },
    'GET /api/data': () => json(200, { ok: true }),
    'POST /api/data': () => json(200, { ok: true }),
  };

  const signOut = (): Response => {
    refresh = undefined;
    live.clear();
    server.jar = {};
    return json(204, null);
  };

  const stepUpChallenge = (): Response => {
    const description = 'this action needs a password confirmation';
    const challenge = `Bearer realm="jot", error="insufficient_user_authentication", error_description="${description}", max_age="${server.stepUpMaxAge}"`;
    return error(
      401,
      {
        error: 'insufficient_user_authentication',
        error_description: description,
        code: 'ERR_STEP_UP_REQUIRED',
      },
      server.stepUpHeader ? { 'www-authenticate': challenge } : {},
    );
  };

  const route = (call: Call, path: string): Response => {
    const name = `${call.req.method} ${path}`;
    if (name === `POST ${ENDPOINTS.login}`) return login(call);
    if (name === `POST ${ENDPOINTS.refresh}`) return refreshRoute(call);
    if (name === `GET ${ENDPOINTS.refreshCsrf}`)
      return server.jar.rt !== undefined && server.jar.rt === refresh
        ? json(200, { csrf_token: FAKE_CSRF })
        : unauthorized();
    const handler = authenticated[name];
    if (handler === undefined)
      return error(404, { error: 'not_found', error_description: 'no route', code: 'ERR_NOT_FOUND' });
    if (call.claims === undefined || call.claims.exp * 1000 <= Date.now()) return unauthorized();
    const safe = call.req.method === 'GET' || call.req.method === 'HEAD';
    return safe || call.csrfOk ? handler(call) : csrfRefused();
  };

  const server: FakeServer = {
    tokens,
    accessTokens: [],
    calls: [],
    authHeaders: [],
    reuse: 0,
    jar: {},
    ttlSeconds,
    stepUpMaxAge: 900,
    stepUpHeader: true,
    authTime: 0,
    singleToken: false,
    count: (call) => server.calls.filter((c) => c === call).length,
    revokeAccessTokens: () => live.clear(),
    endSession: () => {
      refresh = undefined;
    },
    fetch: async (input, init) => {
      const req = new Request(input, init);
      const path = new URL(req.url).pathname;
      server.calls.push(`${req.method} ${path}`);
      server.authHeaders.push(req.headers.get('authorization'));
      const body = req.method === 'GET' ? {} : ((await req.json().catch(() => ({}))) as AnyBody);
      const presented = /^Bearer (.+)$/.exec(req.headers.get('authorization') ?? '')?.[1];
      const token = presented ?? server.jar.at;
      const csrfOk = presented !== undefined || req.headers.get(HEADERS.csrf) === FAKE_CSRF;
      const claims = token === undefined ? undefined : live.get(token);
      return route({ req, body, token, claims, bearer: presented !== undefined, csrfOk }, path);
    },
  };
  return server;
}
