/**
 * DPoP on the server's routes. At token endpoints (sign-in, refresh) a proof is optional or required and binds the
 * session; refusals are RFC 9449 §5 400s (`invalid_dpop_proof`, or `use_dpop_nonce` with a `DPoP-Nonce` header).
 * At protected routes the shared request authentication (`@jot/verify`'s `requestDPoP`, over this server's checker
 * and `requestUrl`) requires a DPoP-bound token to come as `Authorization: DPoP` with a proof from its key.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

import { HEADERS, rawHeaderValues } from '@jot/contract';
import { isJoseError, type JoseError } from '@jot/jose';

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
  const values = rawHeaderValues(request.raw.rawHeaders, 'dpop');
  return values.length <= 1 ? values[0] : values;
}

function errorName(err: JoseError): string {
  return err.code === 'ERR_DPOP_NONCE_REQUIRED' ? 'use_dpop_nonce' : 'invalid_dpop_proof';
}

/** Sends the current nonce (when nonces are on) with this answer, as §8.2 allows on any response. */
function offerNonce(request: FastifyRequest, reply?: FastifyReply): Record<string, string> {
  const nonce = request.server.jot.dpop.nonce();
  if (nonce === undefined) return {};
  reply?.header(HEADERS.dpopNonce, nonce);
  return { [HEADERS.dpopNonce]: nonce };
}

/**
 * An `onSend` hook for a token endpoint whose every answer carries the current nonce (RFC 9449 §8.2 lets a server
 * send one in any response): errors the proof was never checked for — a refused client (401 `invalid_client`), a
 * scope or grant refused (400), a limit (429) — carry it too, so a client learns the nonce from its first answer.
 */
export function nonceOnEveryAnswer(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (err: null, payload: unknown) => void,
): void {
  if (!reply.hasHeader(HEADERS.dpopNonce)) offerNonce(request, reply);
  done(null, payload);
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
