/**
 * One request to an OAuth token endpoint (RFC 6749 §3.2): a form post, the RFC 6749 §5.1 response checked for
 * shape, the §5.2 error turned into a `ServiceError` carrying `error` and `status`. The token endpoint itself comes
 * from the issuer's RFC 8414 metadata (once; a failed discovery is retried on the next call).
 */
import {
  WELL_KNOWN,
  type AuthorizationServerMetadata,
  type ErrorBody,
  type OAuthTokenResponse,
} from '@jot/contract';

import type { ServiceDPoP } from './dpop.js';
import { ServiceError } from './errors.js';

/** The `fetch` the helper uses (injectable for tests and proxies). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** One request's form and headers, built again for a retry (a client assertion is used once). */
export type TokenRequestBuilder = () => { params: URLSearchParams; headers: Record<string, string> };

/** The contract's members (a success or an error body), each still unchecked: a renamed one fails to compile here. */
type TokenAnswerFields = Partial<Record<keyof OAuthTokenResponse | keyof ErrorBody, unknown>>;

/** How an endpoint is named in a message: origin and path, no query (and never credentials). */
function shown(url: string): string {
  const { origin, pathname } = new URL(url);
  return `${origin}${pathname}`;
}

/** One POST of the form, with a fresh DPoP proof when `dpop` is set. */
async function postForm(
  fetchImpl: FetchLike,
  url: string,
  build: TokenRequestBuilder,
  timeoutMs: number,
  dpop: ServiceDPoP | undefined,
): Promise<Response> {
  const { params, headers } = build();
  const proof: Record<string, string> = dpop === undefined ? {} : { dpop: await dpop.proof('POST', url) };
  const answer = await fetchImpl(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...headers,
      ...proof,
    },
    body: params.toString(),
    signal: AbortSignal.timeout(timeoutMs),
  });
  dpop?.remember(url, answer);
  return answer;
}

/** The refusal of a non-2xx answer: the OAuth error when it names one, else the endpoint is unavailable. */
function refusal(response: Response, fields: TokenAnswerFields): ServiceError {
  const error = typeof fields.error === 'string' ? fields.error : undefined;
  const description = typeof fields.error_description === 'string' ? `: ${fields.error_description}` : '';
  if (error === undefined) {
    return new ServiceError('ERR_SERVICE_UNAVAILABLE', `the token endpoint answered ${response.status}`, {
      status: response.status,
    });
  }
  return new ServiceError('ERR_SERVICE_TOKEN_REFUSED', `the token endpoint refused: ${error}${description}`, {
    error,
    status: response.status,
  });
}

/** The token response of a 2xx answer, which must be a Bearer (or, with DPoP, a DPoP) token response. */
function tokenResponseOf(fields: TokenAnswerFields, dpop: ServiceDPoP | undefined): OAuthTokenResponse {
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn } = fields;
  const expected = dpop === undefined ? 'Bearer' : 'DPoP';
  if (
    typeof accessToken !== 'string' ||
    typeof tokenType !== 'string' ||
    tokenType.toLowerCase() !== expected.toLowerCase() ||
    typeof expiresIn !== 'number' ||
    !(expiresIn > 0)
  ) {
    throw new ServiceError(
      'ERR_SERVICE_UNAVAILABLE',
      `the token endpoint answered something that is not a ${expected} token response`,
    );
  }
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: expiresIn,
    ...(typeof fields.scope === 'string' ? { scope: fields.scope } : {}),
    ...(typeof fields.issued_token_type === 'string' ? { issued_token_type: fields.issued_token_type } : {}),
  };
}

/**
 * Posts the form `build` makes to `url` and returns the token response. With `dpop`, each attempt carries a proof,
 * a `use_dpop_nonce` answer is retried once with the nonce it brought, and the answer must be a DPoP token.
 */
export async function requestToken(
  fetchImpl: FetchLike,
  url: string,
  build: TokenRequestBuilder,
  timeoutMs: number,
  dpop?: ServiceDPoP,
): Promise<OAuthTokenResponse> {
  let response: Response;
  let body: unknown;
  try {
    response = await postForm(fetchImpl, url, build, timeoutMs, dpop);
    if (dpop !== undefined && (await dpop.asksForNonce(response))) {
      await response.body?.cancel();
      response = await postForm(fetchImpl, url, build, timeoutMs, dpop);
    }
    body = await response.json().catch(() => undefined);
  } catch (err) {
    throw new ServiceError('ERR_SERVICE_UNAVAILABLE', `the token endpoint did not answer (${shown(url)})`, {
      cause: err,
    });
  }
  const fields: TokenAnswerFields = typeof body === 'object' && body !== null ? body : {};
  if (!response.ok) throw refusal(response, fields);
  return tokenResponseOf(fields, dpop);
}

/**
 * The discovered `token_endpoint`, which must be a URL — https for an https issuer — without credentials (they
 * would end up in errors and logs).
 */
function discoveredEndpoint(issuer: URL, tokenEndpoint: string): string {
  const endpoint = URL.canParse(tokenEndpoint) ? new URL(tokenEndpoint) : undefined;
  if (endpoint === undefined || !/^https?:$/.test(endpoint.protocol)) {
    throw new ServiceError(
      'ERR_SERVICE_DISCOVERY',
      'the token_endpoint of the issuer metadata is not an http(s) URL',
    );
  }
  if (issuer.protocol === 'https:' && endpoint.protocol !== 'https:') {
    throw new ServiceError('ERR_SERVICE_DISCOVERY', 'an https issuer must have an https token_endpoint');
  }
  if (endpoint.username !== '' || endpoint.password !== '') {
    throw new ServiceError(
      'ERR_SERVICE_DISCOVERY',
      'the token_endpoint of the issuer metadata has credentials',
    );
  }
  return endpoint.href;
}

/** The issuer's `token_endpoint` from its RFC 8414 metadata, memoized; a failure is retried on the next call. */
export function tokenEndpointOf(
  issuer: string,
  fetchImpl: FetchLike,
  timeoutMs: number,
): () => Promise<string> {
  let pending: Promise<string> | undefined;
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  const metadataUrl = `${url.origin}${WELL_KNOWN.authorizationServer}${path}`;
  async function discover(): Promise<string> {
    // The contract's members, each still unchecked: a renamed member fails to compile here.
    let doc: Partial<Record<keyof AuthorizationServerMetadata, unknown>>;
    try {
      const response = await fetchImpl(metadataUrl, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      doc = (await response.json()) as Partial<Record<keyof AuthorizationServerMetadata, unknown>>;
    } catch (err) {
      throw new ServiceError(
        'ERR_SERVICE_DISCOVERY',
        `the issuer metadata could not be read (${metadataUrl})`,
        {
          cause: err,
        },
      );
    }
    // RFC 8414 §3.3: the document must be the issuer's own.
    if (doc.issuer !== issuer || typeof doc.token_endpoint !== 'string') {
      throw new ServiceError(
        'ERR_SERVICE_DISCOVERY',
        'the issuer metadata has another issuer or no token_endpoint',
      );
    }
    return discoveredEndpoint(url, doc.token_endpoint);
  }
  return () => {
    pending ??= discover().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}
