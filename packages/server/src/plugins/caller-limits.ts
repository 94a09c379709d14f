/**
 * Limits on who acts at the OAuth endpoints (`/oauth/token`, `/oauth/introspect`, `/oauth/revoke`), at
 * `/api/introspect`, at the resource-server credential of the revocation feed and at `POST /api/token/refresh`:
 * - failed client authentications (`JOT_RATE_LIMIT_AUTH`): once an address has used its budget, its attempts are
 *   refused (429 `ERR_CLIENT_AUTH_LOCKED`) before any credential is checked, so a wrong secret cannot be guessed
 *   without bound, even a right one being refused meanwhile; failures per claimed `client_id` are only counted
 *   (client ids are public: a lock per id would let anyone refuse a client its right secret), for their event: each
 *   budget records `rate_limited` at its own `max`th failure (`client-auth` for the address, `client-auth-client-id`
 *   naming the id, only a registered client's that authenticates). At the token endpoint a refresh token the server does not know (no such token hash), presented
 *   by a public client (no authentication), spends the same budget: guessing a refresh token stays bounded per
 *   address; a known but unusable one (expired, session ended, reused, another client's) does not;
 * - failed grants of an authenticated confidential client at the token endpoint (`JOT_RATE_LIMIT_AUTH`, a budget of
 *   their own per client): an unknown refresh token it relays spends its own budget, not its address's — a gateway
 *   relaying its users' junk tokens must not lock its address's introspection and revocation calls (nor its
 *   neighbours'); once used up, the client's grants are refused (429 `ERR_RATE_LIMITED`) before the token is looked
 *   at. Only the client's secret can spend it;
 * - failed refreshes at `POST /api/token/refresh` (`JOT_RATE_LIMIT_AUTH`, a budget of their own): a refresh token
 *   the server does not know at all (no such token hash: a guess or garbage) or a failed CSRF check; once used up,
 *   the address's refreshes are refused (429 `ERR_RATE_LIMITED`) before the token is looked at. A token the server
 *   issued that is no longer usable (expired, its session ended or idle, its account disabled or deleted, reused)
 *   is refused as before but costs the address nothing — an office whose sessions expired over the weekend, or a
 *   gateway relaying many users' stale tokens, is no guesser. Successes cost nothing: a session can only refresh
 *   with its current token, so many users behind one address are never refused for refreshing;
 * - failed renewals at `POST /api/token/renew` (single-token mode; `JOT_RATE_LIMIT_AUTH`, a budget of their own): an
 *   access token that is not one the server signed (forged, malformed, unknown key) or a failed CSRF check; an
 *   expired or revoked token of the server's own, and every success, cost the address nothing;
 * - calls per authenticated caller (`JOT_RATE_LIMIT_CLIENT`): the OAuth client or the admin (429 `ERR_RATE_LIMITED`);
 *   not a public client (its `client_id` is no secret: anyone could spend the budget of every user of the app);
 * - calls per address by holders of the resource-server secret (`JOT_RATE_LIMIT_RESOURCE_SERVER`, off by default:
 *   a strict verifier asks once per request it serves, and many share one address; feed-credential.ts).
 * All are shared through Redis when configured, so they hold across instances; without it each instance counts.
 */
import { createHash } from 'node:crypto';

import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';

import { redisNames } from '@jot/contract';
import { decodeUnverified } from '@jot/jose';

import type { ServerContext } from '../context.js';
import type { Store } from '../store/index.js';
import { addressKey } from '../http/address-key.js';
import { HttpError } from '../http/errors.js';
import { eventThrottle } from '../http/event-throttle.js';
import { rateLimited } from '../http/rate-limit.js';
import { parseBasic } from '../services/client-auth.js';
import { CLIENT_ID_SHAPE } from '../services/client-registration.js';
import { isDomainError } from '../services/errors.js';
import {
  createFailureLimiter,
  type FailureCounts,
  type FailureLimiter,
  type Reservation,
} from '../services/limiter.js';

/** The limits of one server (every route shares them). */
export interface CallerLimits {
  /**
   * Runs `check` (a client or resource-server authentication) unless the address has used up its failures; counts
   * the failure, for the address and `claimedClientId`, when `check` refuses the credential.
   */
  authenticate<T>(
    request: FastifyRequest,
    claimedClientId: string | undefined,
    check: () => Promise<T>,
    counts?: (err: unknown) => boolean,
  ): Promise<T>;
  /**
   * Runs `refresh` (a first-party refresh) unless the address has used up its failed refreshes; counts a failure
   * for the address when `counts` says the error refuses the presented token (or its CSRF check).
   */
  refresh<T>(
    request: FastifyRequest,
    refresh: () => Promise<T>,
    counts: (err: unknown) => boolean,
  ): Promise<T>;
  /**
   * Runs `verify` (a single-token renewal's check of its access token) unless the address has used up its failed
   * renewals; counts a failure for the address when `counts` says the error refuses a token the server never signed.
   */
  renew<T>(request: FastifyRequest, verify: () => Promise<T>, counts: (err: unknown) => boolean): Promise<T>;
  /**
   * Runs `grant` (a refresh grant of an authenticated confidential client) unless `clientId` has used up its failed
   * grants; counts a failure for the client, not the address, when `counts` says the error refuses a guessable
   * secret (an unknown refresh token). No place is held while the grant runs: a busy client's grants in flight at
   * once are not failures (the client proved who it is; its calls are bounded by `JOT_RATE_LIMIT_CLIENT`).
   */
  clientGrant<T>(
    request: FastifyRequest,
    clientId: string,
    grant: () => Promise<T>,
    counts: (err: unknown) => boolean,
  ): Promise<T>;
  /** Spends one call of `caller`'s budget (an authenticated caller); throws 429 once it is used up. */
  admit(request: FastifyRequest, caller: string): Promise<void>;
  /** Spends one call of the address's resource-server ceiling, when one is set; throws 429 once it is used up. */
  admitResourceServer(request: FastifyRequest): Promise<void>;
}

/** The form fields a claimed client id is read from. */
interface ClientFields {
  client_id?: string;
  client_assertion?: string;
}

/**
 * The Redis key prefixes of the failure counts, beside the other rate limits' `<namespace>:rl:` (`rateLimit`):
 * failed client authentications, failed first-party refreshes, failed grants of authenticated confidential clients
 * at the token endpoint, failed single-token renewals.
 */
function failurePrefixes(rateLimit: string) {
  return {
    clientAuth: `${rateLimit}client-auth:`,
    refresh: `${rateLimit}refresh-fail:`,
    clientGrant: `${rateLimit}client-grant-fail:`,
    renew: `${rateLimit}renew-fail:`,
  } as const;
}

const byContext = new WeakMap<ServerContext, CallerLimits>();

function hashed(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/**
 * The client id a request claims, before anything is verified: the Basic user name, the assertion's `sub`, or the
 * form's `client_id`. Only a key for counting failures: nothing is trusted because of it.
 */
export function claimedClientId(authorization: string | undefined, form: ClientFields): string | undefined {
  if (authorization !== undefined && /^Basic /i.test(authorization)) {
    try {
      // The same decoding as the authentication itself (form-encoded id), so `%73vc` counts as `svc`.
      return parseBasic(authorization).id;
    } catch {
      // Malformed: the address still counts the failure.
    }
  }
  if (form.client_assertion !== undefined) {
    try {
      const { sub, iss } = decodeUnverified(form.client_assertion).payload;
      if (typeof sub === 'string') return sub;
      if (typeof iss === 'string') return iss;
    } catch {
      // Not a JWT: the address still counts the failure.
    }
  }
  return form.client_id;
}

/** Whether an authentication's error refuses a presented credential (not a malformed or missing request). */
export function isCredentialRefusal(err: unknown): boolean {
  return isDomainError(err, 'client', 'token') || (err instanceof HttpError && err.statusCode === 401);
}

function locked(waitMs: number): HttpError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new HttpError(
    429,
    'ERR_CLIENT_AUTH_LOCKED',
    `too many failed client authentications from this address; try again in ${seconds} s`,
    { error: 'rate_limited', headers: { 'retry-after': String(seconds) } },
  );
}

/** One call of a budget; 429 `ERR_RATE_LIMITED` once it is used up. */
async function spend(
  limit: ReturnType<FastifyInstance['createRateLimit']>,
  request: FastifyRequest,
): Promise<void> {
  const result = await limit(request);
  if (!result.isAllowed && result.isExceeded) throw rateLimited(result.ttlInSeconds);
}

/**
 * Runs `attempt` on a place `held` in an address's budget: a failure that `counts` (a refused credential) keeps it
 * spent and `onCounted` is told each key's count (the held key's, then each of `alsoKeys`'s, which count the failure
 * too without holding a place) — the caller records a key's "budget spent" event at its `max`th, one event per key
 * and window rather than one per refused attempt — while anything else gives it back.
 */
async function onHeldPlace<T>(
  held: Reservation,
  attempt: () => Promise<T>,
  counts: (err: unknown) => boolean,
  { onCounted, alsoKeys = [] }: { onCounted: (counts: FailureCounts) => void; alsoKeys?: readonly string[] },
): Promise<T> {
  let result: T;
  try {
    result = await attempt();
  } catch (err) {
    if (!counts(err)) await held.release();
    else onCounted(await held.fail(alsoKeys));
    throw err;
  }
  await held.release();
  return result;
}

/**
 * A failure budget per key (under `prefix`): an attempt is refused once its key has `max` failures in its window, and
 * a refusal that `counts` is counted (`record` at the `max`th).
 * - `hold: true` (`CallerLimits.refresh` and `.renew`, per address): the place is held before the token is looked at,
 *   so a burst in flight at once gets no more lookups than the budget.
 * - `hold: false` (`CallerLimits.clientGrant`, per authenticated client): the failure is counted after the fact, so
 *   concurrency alone never refuses a client that proved who it is.
 */
function failureGuard(
  redis: Redis | undefined,
  prefix: string,
  { max, windowMs }: { max: number; windowMs: number },
  record: (request: FastifyRequest, key: string) => void,
  { hold, onFull }: { hold: boolean; onFull: () => void },
): CallerLimits['clientGrant'] {
  const failures = createFailureLimiter({ redis, prefix, max, windowMs, onFull });
  if (hold) {
    return async (request, key, attempt, counts) => {
      const held = await failures.reserve([key]);
      if (held.wait > 0) throw rateLimited(held.wait / 1000);
      return onHeldPlace(held, attempt, counts, {
        onCounted: ([count]) => {
          if (count === max) record(request, key);
        },
      });
    };
  }
  return async (request, key, attempt, counts) => {
    const wait = await failures.blockedFor([key]);
    if (wait > 0) throw rateLimited(wait / 1000);
    try {
      return await attempt();
    } catch (err) {
      if (counts(err) && (await failures.fail([key]))[0] === max) record(request, key);
      throw err;
    }
  };
}

/** The failure budgets of their own (`JOT_RATE_LIMIT_AUTH` each): refreshes and renewals per address, grants per client. */
function failureGuards(
  redis: Redis | undefined,
  prefixes: ReturnType<typeof failurePrefixes>,
  budget: { max: number; windowMs: number },
  record: RecordSpent,
  full: (limit: string) => () => void,
): Pick<CallerLimits, 'refresh' | 'renew' | 'clientGrant'> {
  const guard = (prefix: string, limit: string, hold: boolean): CallerLimits['clientGrant'] =>
    failureGuard(redis, prefix, budget, (request, key) => record(request, limit, key), {
      hold,
      onFull: full(limit),
    });
  const perAddress = (prefix: string, limit: string): CallerLimits['refresh'] => {
    const byKey = guard(prefix, limit, true);
    return (request, attempt, counts) => byKey(request, `ip:${addressKey(request.ip)}`, attempt, counts);
  };
  const clientGrants = guard(prefixes.clientGrant, 'client-grant-failures', false);
  return {
    refresh: perAddress(prefixes.refresh, 'refresh-failures'),
    renew: perAddress(prefixes.renew, 'renew-failures'),
    clientGrant: (request, clientId, grant, counts) =>
      clientGrants(request, `client:${hashed(clientId)}`, grant, counts),
  };
}

/**
 * Records a budget's "budget spent" event (`rate_limited`, `detail.limit` = `limit`) for its `key` — at most once per
 * key and window on an instance, and past the throttle's key bound one `suppressed: true` event for the rest of the
 * window (http/event-throttle.ts), as the route limits do.
 */
type RecordSpent = (
  request: FastifyRequest,
  limit: string,
  key: string,
  detail?: Record<string, unknown>,
) => void;

/**
 * Whether `claimed` names a registered client that authenticates (a secret or a key) — the only kind whose
 * credential can be guessed or forged; a public client (`none`) has none, and its failures are unknown refresh
 * tokens. A claimed id is the caller's text (a Basic user name, a form field, an unverified assertion's `sub`): it
 * may be anything, a swapped-in secret included, so it is named in an event only once the store knows it as such a
 * client.
 */
async function guessableClient(store: Store, claimed: string): Promise<boolean> {
  if (!CLIENT_ID_SHAPE.test(claimed)) return false;
  const client = await store.getClient(claimed);
  return client !== undefined && client.authMethod !== 'none';
}

/**
 * `CallerLimits.authenticate` over the failed client authentications' budget (`failures`, `max` each key): per address
 * (`ip:`), the budget that locks, and per claimed client id (`client:`), only counted. Each key's "budget spent"
 * event is recorded at its own `max`th failure — the address's as `client-auth`, the client id's as
 * `client-auth-client-id` naming the id (many addresses guessing one client's secret; only a registered client's
 * that authenticates: `guessableClient`) — never at another key's: the
 * largest of the two counts once named the address for a client id's count, and missed the address's own `max`th
 * when the client id had passed its `max` before.
 */
function clientAuthentications(
  failures: FailureLimiter,
  max: number,
  record: RecordSpent,
  store: Store,
): CallerLimits['authenticate'] {
  return async (request, claimed, check, counts = isCredentialRefusal) => {
    // The address as its limits group it (an IPv6 /64), as the route limits do.
    const address = `ip:${addressKey(request.ip)}`;
    // Only the address locks before the credential: client ids are public, so a lock per client id would let anyone
    // refuse a client its right secret (failures per client are still counted, for the events). The address's
    // place is held before the credential is checked: a burst gets no more checks than the budget.
    const held = await failures.reserve([address]);
    if (held.wait > 0) throw locked(held.wait);
    const clientKey = claimed === undefined ? undefined : `client:${hashed(claimed)}`;
    return onHeldPlace(held, check, counts, {
      alsoKeys: clientKey === undefined ? [] : [clientKey],
      onCounted: ([forAddress, forClient]) => {
        if (forAddress === max) record(request, 'client-auth', address);
        if (forClient !== max || claimed === undefined || clientKey === undefined) return;
        // Named only for a registered client with a secret: the caller's text is never written as it came.
        guessableClient(store, claimed)
          .then((known) => {
            if (known) record(request, 'client-auth-client-id', clientKey, { client_id: claimed });
          })
          .catch((err: unknown) => request.log.warn({ err }, 'recording a security event failed'));
      },
    });
  };
}

/** The warning of a failure budget whose per-instance memory is full (`limit` names the budget; no keys). */
function memoryFull(log: FastifyBaseLogger, limit: string): () => void {
  return () =>
    log.warn(
      { limit },
      'failure-budget memory is full of running windows (failures from many addresses or clients at once); ' +
        'new keys share budgets until windows end, so some callers may be refused early',
    );
}

function build(app: FastifyInstance): CallerLimits {
  const { config, redis, events } = app.jot;
  const prefixes = failurePrefixes(redisNames(config.redisNamespace).rateLimit);
  const failures: FailureLimiter = createFailureLimiter({
    redis,
    prefix: prefixes.clientAuth,
    max: config.rateLimitAuth.max,
    windowMs: config.rateLimitAuth.windowMs,
    onFull: memoryFull(app.log, 'client-auth'),
  });
  const callerOf = new WeakMap<FastifyRequest, string>();
  const calls = app.createRateLimit({
    max: config.rateLimitClient.max,
    timeWindow: config.rateLimitClient.windowMs,
    keyGenerator: (request) => `caller:${callerOf.get(request) ?? `ip:${addressKey(request.ip)}`}`,
  });
  const ceiling = config.rateLimitResourceServer;
  const resourceServerCalls =
    ceiling === undefined
      ? undefined
      : app.createRateLimit({
          max: ceiling.max,
          timeWindow: ceiling.windowMs,
          keyGenerator: (request) => `resource-server:ip:${addressKey(request.ip)}`,
        });
  // One throttle for every budget: they share JOT_RATE_LIMIT_AUTH's window, and keys carry their budget's name.
  const throttle = eventThrottle(config.rateLimitAuth.windowMs);
  const record: RecordSpent = (request, limit, key, detail = {}) => {
    const decision = throttle(`${limit}\n${key}`, Date.now());
    if (decision === 'skip') return;
    events
      .record('rate_limited', {
        ip: request.ip,
        detail: {
          limit,
          route: request.routeOptions.url ?? null,
          ...(decision === 'overflow' ? { suppressed: true } : detail),
        },
      })
      .catch((err: unknown) => request.log.warn({ err }, 'recording a security event failed'));
  };
  const guards = failureGuards(redis, prefixes, config.rateLimitAuth, record, (limit) =>
    memoryFull(app.log, limit),
  );
  return {
    authenticate: clientAuthentications(failures, config.rateLimitAuth.max, record, app.jot.store),
    ...guards,
    async admit(request, caller) {
      callerOf.set(request, caller);
      await spend(calls, request);
    },
    async admitResourceServer(request) {
      if (resourceServerCalls !== undefined) await spend(resourceServerCalls, request);
    },
  };
}

/** The limits of the server `app` belongs to (built once, shared by every route). */
export function callerLimits(app: FastifyInstance): CallerLimits {
  let limits = byContext.get(app.jot);
  if (limits === undefined) {
    limits = build(app);
    byContext.set(app.jot, limits);
  }
  return limits;
}
