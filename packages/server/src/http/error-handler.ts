/**
 * The one error handler: every failure becomes `{ error, error_description, code }` with the right status.
 * Services raise `DomainError`s, which know nothing of HTTP: this is the one place that maps their kinds to
 * statuses, error names and challenges. Fastify's own errors (schema validation, bad JSON, body too large, wrong media type) become clear 4xx answers;
 * anything unexpected is a 500 whose details go to the log only. What is refused before any route — a request Node's
 * HTTP parser cannot read, headers that are too large or too slow, a path that does not decode — gets the same body.
 */
import type { Duplex } from 'node:stream';

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { ServerErrorCode } from '@jot/contract';
import { isJoseError } from '@jot/jose';
import { isVerifyError } from '@jot/verify';

import { KeyError } from '../keys/errors.js';
import { DomainError, type DomainErrorKind } from '../services/errors.js';
import { StoreError } from '../store/index.js';
import { noRoute } from './allowed-methods.js';
import { fromVerifyError, HttpError, unauthorized, type ErrorBody } from './errors.js';
import { FAILURE_LOG_WINDOW_MS, failureLog } from './failure-log.js';
import { invalidClient } from './oauth-errors.js';
import { validationMessage } from './validation-message.js';

const FASTIFY_CODES: Readonly<Record<string, [number, ServerErrorCode, string]>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'ERR_BODY_TOO_LARGE', 'the request body is too large'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'ERR_BAD_JSON', 'the JSON body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'ERR_BAD_JSON', 'the body is not valid JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'ERR_VALIDATION', 'the Content-Length does not match the body'],
  FST_ERR_CTP_INVALID_TYPE: [400, 'ERR_VALIDATION', 'the Content-Type header is not valid'],
  FST_ERR_CTP_EMPTY_TYPE: [400, 'ERR_VALIDATION', 'the Content-Type header is empty'],
  // Refused by the router before any route (`frameworkErrors`).
  FST_ERR_BAD_URL: [400, 'ERR_HTTP_MALFORMED', 'the path has a percent-escape that does not decode'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'ERR_VALIDATION', 'a path segment is longer than 100 characters'],
};

/** The status and RFC 6749/6750 error name of each kind of domain error. */
const DOMAIN_KINDS: Readonly<Record<Exclude<DomainErrorKind, 'token' | 'client'>, [number, string]>> = {
  invalid: [400, 'invalid_request'],
  grant: [401, 'invalid_grant'],
  forbidden: [403, 'forbidden'],
  not_found: [404, 'not_found'],
  conflict: [409, 'invalid_request'],
  throttled: [429, 'rate_limited'],
};

/** Codes whose protocol names their own error (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2, RFC 9449 §7.1). */
const ERROR_NAMES: Readonly<Record<string, string>> = {
  ERR_SCOPE_INVALID: 'invalid_scope',
  ERR_SCOPE_WIDENED: 'invalid_scope',
  ERR_INVALID_TARGET: 'invalid_target',
  ERR_CLIENT_INVALID: 'invalid_client_metadata',
  ERR_CLIENT_EXISTS: 'invalid_client_metadata',
  ERR_DPOP_REQUIRED: 'invalid_dpop_proof',
  ERR_DPOP_KEY_MISMATCH: 'invalid_dpop_proof',
  ERR_DPOP_PROOF_INVALID: 'invalid_dpop_proof',
};

/** The HTTP answer to a domain error. */
export function fromDomainError(error: DomainError): HttpError {
  if (error.kind === 'token') return unauthorized(error.code, error.message);
  if (error.kind === 'client') return invalidClient(error.code, error.message);
  const [status, name] = DOMAIN_KINDS[error.kind];
  const retryAfter = error.retryAfterSeconds;
  return new HttpError(status, error.code, error.message, {
    error: ERROR_NAMES[error.code] ?? name,
    headers: retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
    cause: error.cause,
  });
}

/** Any thrown value as the `HttpError` to answer with. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof DomainError) return fromDomainError(error);
  if (isJoseError(error)) return unauthorized(error.code, error.message);
  if (!(error instanceof Error))
    return new HttpError(500, 'ERR_INTERNAL', 'an internal error occurred; it has been logged', {
      cause: error,
    });
  if (isVerifyError(error)) return fromVerifyError(error);
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const where = fastifyError.validationContext ?? 'request';
    return new HttpError(400, 'ERR_VALIDATION', validationMessage(where, fastifyError.validation[0]));
  }
  const known = fastifyError.code === undefined ? undefined : FASTIFY_CODES[fastifyError.code];
  if (known) return new HttpError(known[0], known[1], known[2]);
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new HttpError(400, 'ERR_BAD_JSON', 'the body is not valid JSON');
  }
  if (error instanceof KeyError && error.code === 'ERR_KEY_NO_ACTIVE') {
    return new HttpError(503, 'ERR_UNAVAILABLE', 'no signing key is active yet; try again shortly', {
      headers: { 'retry-after': '5' },
    });
  }
  // A row written for an account (or session) that was deleted meanwhile: a sign-in's session or MFA token, a
  // refresh token's rotation, an enrolment, a counter, a link — every user-keyed insert racing a deletion. The
  // account is gone, so what the request was doing is over: the answer of a sign-in overtaken by a change, not a 500.
  if (error instanceof StoreError && error.code === 'ERR_STORE_REFERENCE') {
    return fromDomainError(
      new DomainError(
        'grant',
        'ERR_CREDENTIALS_CHANGED',
        'the account was deleted or signed out while this request was handled; sign in again (or create a new account)',
        { cause: error },
      ),
    );
  }
  if (error instanceof StoreError && error.code === 'ERR_STORE_BAD_VALUE') {
    return new HttpError(400, 'ERR_VALIDATION', 'the request contains a value that cannot be stored');
  }
  // A refusal (a password rotated under a running server) is the operator's to fix; to a client it is an outage.
  if (
    error instanceof StoreError &&
    (error.code === 'ERR_STORE_UNAVAILABLE' || error.code === 'ERR_STORE_REFUSED')
  ) {
    return new HttpError(503, 'ERR_UNAVAILABLE', 'the database is unavailable; try again shortly', {
      headers: { 'retry-after': '5' },
    });
  }
  if (fastifyError.statusCode === 429) {
    return new HttpError(429, 'ERR_RATE_LIMITED', 'too many requests; slow down and try again later');
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new HttpError(status, 'ERR_VALIDATION', 'the request could not be processed');
  }
  return new HttpError(500, 'ERR_INTERNAL', 'an internal error occurred; it has been logged', {
    cause: error,
  });
}

/** Sends an error in the common shape. */
export function sendError(reply: FastifyReply, error: HttpError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  const body: ErrorBody = error.toBody();
  return reply.code(error.statusCode).type('application/json; charset=utf-8').send(body);
}

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refused (malformed, headers too large, too slow) gets
 * the common body on the raw socket, which then closes — the parser cannot tell where a next request would start.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  err: Error & { code?: string },
  socket: Duplex,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, error] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [
          408,
          'Request Timeout',
          new HttpError(408, 'ERR_REQUEST_TIMEOUT', 'the request did not arrive in time'),
        ]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [
            431,
            'Request Header Fields Too Large',
            new HttpError(431, 'ERR_HEADERS_TOO_LARGE', 'the request headers are too large'),
          ]
        : [400, 'Bad Request', new HttpError(400, 'ERR_HTTP_MALFORMED', 'the request is not valid HTTP')];
  this.log.debug({ code: err.code, status }, 'client error');
  answerOnSocket(socket, reason, error);
  socket.destroy();
}

/**
 * Writes `error` as a whole HTTP/1.1 response (`reason` its reason phrase, its headers included) with
 * `Connection: close` on a socket no Fastify reply owns, when it is still writable.
 */
export function answerOnSocket(socket: Duplex, reason: string, error: HttpError): void {
  if (!socket.writable) return;
  const body = JSON.stringify(error.toBody());
  const headers = Object.entries(error.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(
    `HTTP/1.1 ${error.statusCode} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n${headers}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Fastify's `frameworkErrors` (a path that does not decode, a path parameter too long): the common body. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const httpError = toHttpError(error);
  request.log.info({ code: httpError.code, status: httpError.statusCode }, 'request refused');
  void sendError(reply, httpError);
}

/**
 * What tells one failure's cause from another's for the log throttle: the code, the error's name and message (cut
 * short) and where it was thrown (the stack's first frame), so two bugs with one message are two causes.
 */
function failureCause(code: string, error: Error): string {
  const frame = error.stack?.split('\n').find((line) => line.trimStart().startsWith('at '));
  return `${code}|${error.name}|${error.message.slice(0, 200)}|${frame?.trim().slice(0, 200) ?? ''}`;
}

/**
 * Installs the error and not-found handlers. A failure of the server's own (5xx) is logged once per cause and
 * window (http/failure-log.ts); `now` is the clock that window runs on.
 */
export function installErrorHandlers(app: FastifyInstance, now: () => number = Date.now): void {
  const failures = failureLog();
  const reportEnded = (): void => {
    for (const { cause, suppressed } of failures.flush(now())) {
      app.log.error(
        { cause, suppressed },
        `${suppressed} more requests failed the same way before it stopped`,
      );
    }
  };
  const flusher = setInterval(reportEnded, FAILURE_LOG_WINDOW_MS);
  flusher.unref();
  app.addHook('onClose', async () => {
    clearInterval(flusher);
    reportEnded();
  });
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const httpError = toHttpError(error);
    if (httpError.statusCode >= 500) {
      const { log, suppressed } = failures.decide(failureCause(httpError.code, error), now());
      if (log && suppressed === 0) request.log.error({ err: error }, 'request failed');
      else if (log) {
        request.log.error(
          { err: error, suppressed },
          `request failed (${suppressed} more failed the same way since this was last logged)`,
        );
      }
    } else request.log.info({ code: httpError.code, status: httpError.statusCode }, 'request refused');
    return sendError(reply, httpError);
  });
  // A path that takes other methods is 405 with `Allow`; one nothing answers at, 404.
  app.setNotFoundHandler((request, reply) => sendError(reply, noRoute(app, request.method, request.url)));
}
