/**
 * `strict`: every verification asks the central list, through the issuer's RFC 7662 introspection endpoint
 * (`POST /api/introspect`, authenticated with the feed secret). A logout is honoured on the very next request, at
 * the price of a network round trip per request. If the endpoint cannot be reached the request fails closed (503)
 * unless `failOpen` is set; an answer that refuses (refusal.ts) always fails closed. The other strict variant reads
 * the list the server mirrors into Redis (`redis.ts`).
 */
import type { IntrospectionResponse } from '@jot/contract';

import { tokenRevoked } from '../errors.js';
import { CentralCheck } from './central-check.js';
import { fetchOk, readJSONObject } from '../http.js';
import { isRefusal } from './refusal.js';
import type { AccessTokenClaims, Clock, FetchLike, Logger } from '../types.js';
import type { RevocationStats, RevocationStrategy } from './strategy.js';

/** Resolved settings of the strict strategy. */
export interface StrictSettings {
  secret: string;
  introspectionUrl: () => Promise<string>;
  failOpen: boolean;
  timeoutMs: number;
  fetch: FetchLike;
  clock: Clock;
  logger: Logger;
}

/**
 * Introspects every token.
 *
 * @example
 * // Usually built by createVerifier({ revocation: { strategy: 'strict', secret } }).
 */
export class IntrospectionRevocation implements RevocationStrategy {
  readonly #s: StrictSettings;
  readonly #central: CentralCheck;

  constructor(settings: StrictSettings) {
    this.#s = settings;
    this.#central = new CentralCheck('introspection', settings);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  async check(claims: AccessTokenClaims, token: string): Promise<void> {
    let active: boolean;
    try {
      this.#central.started();
      const url = await this.#s.introspectionUrl();
      const response = await fetchOk(this.#s.fetch, url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.#s.secret}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        timeoutMs: this.#s.timeoutMs,
      });
      // The contract's members, each still unchecked: a renamed member fails to compile here.
      const body: Partial<Record<keyof IntrospectionResponse, unknown>> = await readJSONObject(response, url);
      // An active answer must be about this very token (RFC 7662 §2.2 members, when present).
      active = body.active === true && (body.jti === undefined || body.jti === claims.jti);
      this.#central.answered();
    } catch (err) {
      // An answer that refused (429, 401, a redirect, a proxy's page) fails closed whatever `failOpen` says.
      if (isRefusal(err)) this.#central.refused(err);
      this.#central.failed(err);
      return;
    }
    if (!active) {
      throw tokenRevoked('inactive');
    }
  }

  stats(): RevocationStats {
    return this.#central.stats();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
