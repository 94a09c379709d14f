/**
 * An in-memory stand-in for the Jot server's session endpoints, as a `fetch`. It rotates refresh tokens, flags a
 * spent one as reuse, checks the CSRF header on cookie-authenticated unsafe requests, and keeps one cookie jar —
 * shared by every client using it, like the tabs of one browser. Like the real server, every access token carries
 * the session's `auth_time` (a refresh keeps it, `POST /api/reauth` renews it) and `PUT /api/admin/thing` asks for
 * a step-up (RFC 9470) when that is older than `stepUpMaxAge` seconds.
 */
import type { FetchLike } from '../src/index.js';

export interface FakeServer {
  fetch: FetchLike;
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
}

function json(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

const unauthorized = (): Response =>
  json(401, { error: 'invalid_token', error_description: 'no', code: 'ERR_AUTH_REQUIRED' });

export function fakeServer(ttlSeconds = 60): FakeServer {
  let seq = 0;
  const access = new Map<string, number>();
  const authTimes = new Map<string, number>();
  const spent = new Set<string>();
  let refresh: string | undefined;
  let delivery = 'bearer';
  const csrf = 'csrf-token-1';
  const server: FakeServer = {
    calls: [],
    authHeaders: [],
    reuse: 0,
    jar: {},
    ttlSeconds,
    stepUpMaxAge: 900,
    stepUpHeader: true,
    authTime: 0,
    count: (call) => server.calls.filter((c) => c === call).length,
    revokeAccessTokens: () => access.clear(),
    endSession: () => {
      refresh = undefined;
    },
    fetch: async (input, init) => {
      const req = new Request(input, init);
      const path = new URL(req.url).pathname;
      server.calls.push(`${req.method} ${path}`);
      server.authHeaders.push(req.headers.get('authorization'));
      const body =
        req.method === 'GET' ? {} : ((await req.json().catch(() => ({}))) as Record<string, unknown>);

      const issue = (rotate = true): Response => {
        const at = `at-${++seq}`;
        access.set(at, Date.now() + server.ttlSeconds * 1000);
        authTimes.set(at, server.authTime);
        const base = { token_type: 'Bearer', expires_in: server.ttlSeconds };
        // Re-authentication renews the access token only (as the server's `sessions.reissue` does).
        if (!rotate) {
          if (delivery === 'bearer') return json(200, { ...base, access_token: at });
          if (delivery === 'memory') return json(200, { ...base, access_token: at, csrf_token: csrf });
          server.jar.at = at;
          return json(200, { ...base, csrf_token: csrf });
        }
        const rt = `rt-${seq}`;
        if (refresh !== undefined) spent.add(refresh);
        refresh = rt;
        if (delivery === 'bearer') return json(200, { ...base, access_token: at, refresh_token: rt });
        server.jar.rt = rt;
        if (delivery === 'memory') return json(200, { ...base, access_token: at, csrf_token: csrf });
        server.jar.at = at;
        return json(200, { ...base, csrf_token: csrf });
      };
      const bearer = /^Bearer (.+)$/.exec(req.headers.get('authorization') ?? '')?.[1];
      const token = bearer ?? server.jar.at;
      const authed = token !== undefined && (access.get(token) ?? 0) > Date.now();
      const csrfOk = bearer !== undefined || req.headers.get('x-csrf-token') === csrf;

      switch (`${req.method} ${path}`) {
        case 'POST /api/login':
          if (body.password !== 'pw')
            return json(401, {
              error: 'invalid_grant',
              error_description: 'no',
              code: 'ERR_INVALID_CREDENTIALS',
            });
          delivery = typeof body.delivery === 'string' ? body.delivery : 'bearer';
          server.authTime = Date.now();
          return issue();
        case 'GET /api/token/refresh/csrf':
          return server.jar.rt !== undefined && server.jar.rt === refresh
            ? json(200, { csrf_token: csrf })
            : unauthorized();
        case 'POST /api/token/refresh': {
          const presented = delivery === 'bearer' ? body.refresh_token : server.jar.rt;
          if (delivery !== 'bearer' && req.headers.get('x-csrf-token') !== csrf)
            return json(403, { error: 'invalid_request', error_description: 'csrf', code: 'ERR_CSRF' });
          if (typeof presented === 'string' && spent.has(presented)) {
            server.reuse++;
            return json(401, {
              error: 'invalid_grant',
              error_description: 'reuse',
              code: 'ERR_REFRESH_TOKEN_REUSED',
            });
          }
          if (presented === undefined || presented !== refresh) return unauthorized();
          return issue();
        }
        case 'GET /api/whoami':
          if (!authed) return unauthorized();
          return json(200, {
            claims: { sub: 'u1', exp: Math.floor((access.get(token) ?? 0) / 1000) },
            user: { id: 'u1', email: 'a@b.c', name: null, roles: [], status: 'active', created_at: '' },
            ...(bearer === undefined ? { csrf_token: csrf } : {}),
          });
        case 'POST /api/logout':
        case 'POST /api/logout-all':
          if (!authed) return unauthorized();
          if (!csrfOk)
            return json(403, { error: 'invalid_request', error_description: 'csrf', code: 'ERR_CSRF' });
          refresh = undefined;
          access.clear();
          server.jar = {};
          return json(204, null);
        case 'POST /api/reauth':
          if (!authed) return unauthorized();
          if (!csrfOk)
            return json(403, { error: 'invalid_request', error_description: 'csrf', code: 'ERR_CSRF' });
          if (body.password !== 'pw')
            return json(403, {
              error: 'invalid_grant',
              error_description: 'the password is incorrect',
              code: 'ERR_INVALID_CREDENTIALS',
            });
          server.authTime = Date.now();
          return issue(false);
        case 'PUT /api/admin/thing': {
          if (!authed) return unauthorized();
          if (!csrfOk)
            return json(403, { error: 'invalid_request', error_description: 'csrf', code: 'ERR_CSRF' });
          const age = Math.floor(Date.now() / 1000) - Math.floor((authTimes.get(token) ?? 0) / 1000);
          if (age > server.stepUpMaxAge) {
            const description = 'this action needs a password confirmation';
            return new Response(
              JSON.stringify({
                error: 'insufficient_user_authentication',
                error_description: description,
                code: 'ERR_STEP_UP_REQUIRED',
              }),
              {
                status: 401,
                headers: {
                  'content-type': 'application/json; charset=utf-8',
                  ...(server.stepUpHeader
                    ? {
                        'www-authenticate': `Bearer realm="jot", error="insufficient_user_authentication", error_description="${description}", max_age="${server.stepUpMaxAge}"`,
                      }
                    : {}),
                },
              },
            );
          }
          return json(200, { ok: true });
        }
        case 'GET /api/data':
          return authed ? json(200, { ok: true }) : unauthorized();
        case 'POST /api/data':
          if (!authed) return unauthorized();
          return csrfOk
            ? json(200, { ok: true })
            : json(403, { error: 'invalid_request', error_description: 'csrf', code: 'ERR_CSRF' });
        default:
          return json(404, { error: 'not_found', error_description: 'no route', code: 'ERR_NOT_FOUND' });
      }
    },
  };
  return server;
}

/** A Web Locks stand-in: one holder per name, FIFO, the next holder granted a few ms after release. */
export function fakeLocks(grantDelayMs = 5): {
  request<T>(name: string, cb: () => Promise<T>): Promise<T>;
  granted: number;
} {
  const tails = new Map<string, Promise<unknown>>();
  const locks = {
    granted: 0,
    request<T>(name: string, cb: () => Promise<T>): Promise<T> {
      const previous = tails.get(name);
      const run = (async () => {
        if (previous !== undefined) {
          await previous.catch(() => undefined);
          await new Promise((r) => setTimeout(r, grantDelayMs));
        }
        locks.granted++;
        return cb();
      })();
      tails.set(name, run);
      return run;
    },
  };
  return locks;
}
