/**
 * DPoP on the server's routes. At token endpoints (sign-in, refresh) a proof is optional or required and binds the
 * session; refusals are RFC 9449 §5 400s (`invalid_dpop_proof`, or `use_dpop_nonce` with a `DPoP-Nonce` header).
 * At protected routes a DPoP-bound token needs `Authorization: DPoP` and a proof from its key for this method and
 * URL; refusals are §7.1 401s with a `WWW-Authenticate: DPoP` challenge.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

import { HEADERS, type JotErrorCode } from '@jot/contract';
import { isJoseError, type JoseError, type VerifiedDPoPProof } from '@jot/jose';

import { HttpError } from './errors.js';

/** The URL the client addressed: `JOT_EXTERNAL_URL` + path, or the request's own scheme and host. */
export function requestUrl(request: FastifyRequest): string {
  const base = request.server.jot.config.externalUrl ?? `${request.protocol}://${request.host}`;
  return base + request.url;
}

/**
 * The `DPoP` header value(s) as sent: Node joins repeated headers with ", ", so they are read from the raw list to
 * refuse two proofs (RFC 9449 §4.3 check 1) rather than mistake them for one malformed proof.
 */
function proofHeader(request: FastifyRequest): string | string[] | undefined {
  const raw = request.raw.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === 'dpop') values.push(raw[i + 1] ?? '');
  }
  return values.length <= 1 ? values[0] : values;
}

function errorName(err: JoseError): string {
  return err.code === 'ERR_DPOP_NONCE_REQUIRED' ? 'use_dpop_nonce' : 'invalid_dpop_proof';
}

function quote(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}

/** Sends the current nonce (when nonces are on) with this answer, as §8.2 allows on any response. */
function offerNonce(request: FastifyRequest, reply?: FastifyReply): Record<string, string> {
  const nonce = request.server.jot.dpop.nonce();
  if (nonce === undefined) return {};
  reply?.header(HEADERS.dpopNonce, nonce);
  return { [HEADERS.dpopNonce]: nonce };
}

/**
 * Token endpoints: checks the request's proof against `boundJkt` (a bound session's key). Resolves to the proof's
 * thumbprint, or undefined when no proof was sent and none is needed; throws a 400 `HttpError` otherwise.
 */
export async function tokenEndpointProof(
  request: FastifyRequest,
  reply: FastifyReply,
  options: { boundJkt?: string | null; required?: boolean },
): Promise<string | undefined> {
  const { dpop } = request.server.jot;
  const sent = proofHeader(request);
  const needed = options.required === true || (options.boundJkt ?? null) !== null;
  if (sent === undefined && !needed) return undefined;
  try {
    const proof = await dpop.check({
      method: request.method,
      url: requestUrl(request),
      proof: sent,
      boundJkt: options.boundJkt ?? undefined,
    });
    offerNonce(request, reply);
    return proof.jkt;
  } catch (err) {
    if (!isJoseError(err)) throw err;
    const message =
      err.code === 'ERR_DPOP_REQUIRED' && options.boundJkt
        ? 'this session is bound to a DPoP key: send a DPoP proof made with it'
        : err.message;
    throw new HttpError(400, err.code, message, { error: errorName(err), headers: offerNonce(request) });
  }
}

/**
 * The sign-in's proof (`JOT_DPOP`: optional or required). A proof with cookie delivery is refused: the page could
 * never compute `ath` for a token it cannot read.
 */
export async function loginProof(
  request: FastifyRequest,
  reply: FastifyReply,
  delivery: string,
): Promise<string | undefined> {
  const required = request.server.jot.config.dpop === 'required';
  if (delivery === 'cookie' && (required || proofHeader(request) !== undefined)) {
    throw new HttpError(
      400,
      'ERR_VALIDATION',
      'DPoP needs the access token in the page: sign in with delivery "memory" or "bearer"',
      {
        error: 'invalid_request',
      },
    );
  }
  return tokenEndpointProof(request, reply, { required });
}

/** The `WWW-Authenticate: DPoP` challenge of a refusal at a protected route (RFC 9449 §7.1). */
export function dpopChallenge(
  request: FastifyRequest,
  error: string,
  message: string,
): Record<string, string> {
  const algs = request.server.jot.dpop.algorithms.join(' ');
  return {
    'www-authenticate': `DPoP error="${error}", error_description="${quote(message)}", algs="${algs}"`,
    ...offerNonce(request),
  };
}

/**
 * Protected routes: a token bound to `jkt` came with `scheme`; requires the DPoP scheme and a proof from that key
 * for this request, with `ath` of `token`. Throws a 401 `HttpError` with the DPoP challenge.
 */
export async function resourceProof(
  request: FastifyRequest,
  token: string,
  scheme: 'bearer' | 'dpop',
  jkt: string | undefined,
): Promise<VerifiedDPoPProof | undefined> {
  if (jkt === undefined && scheme === 'bearer') return undefined;
  const refuse = (code: JotErrorCode, error: string, message: string): HttpError =>
    new HttpError(401, code, message, { error, headers: dpopChallenge(request, error, message) });
  if (jkt === undefined) {
    throw refuse(
      'ERR_DPOP_KEY_MISMATCH',
      'invalid_token',
      'this access token is not DPoP-bound; send it as Bearer',
    );
  }
  if (scheme === 'bearer') {
    throw refuse(
      'ERR_DPOP_REQUIRED',
      'invalid_token',
      'this access token is DPoP-bound: send it as "DPoP <token>" with a proof',
    );
  }
  try {
    return await request.server.jot.dpop.check({
      method: request.method,
      url: requestUrl(request),
      proof: proofHeader(request),
      accessToken: token,
      boundJkt: jkt,
    });
  } catch (err) {
    if (!isJoseError(err)) throw err;
    throw refuse(err.code, errorName(err), err.message);
  }
}
