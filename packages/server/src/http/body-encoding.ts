/**
 * Request bodies are read as they arrive: uncompressed, and in UTF-8. A body with a `Content-Encoding` other than
 * `identity` (gzip, br, deflate, anything) would otherwise be handed to the JSON or form parser as compressed bytes
 * and refused as "not valid JSON" — or, for a form, read as garbage; a body declared in another charset (`charset=
 * iso-8859-1`) would be decoded as UTF-8 anyway and stored wrong. Both are refused before any route runs with 415
 * `ERR_UNSUPPORTED_MEDIA_TYPE` (RFC 9110 §15.5.16), the encoding refusal with `Accept-Encoding: identity` (§12.5.3:
 * what the server would have taken). `utf-8` and its WHATWG label `utf8` are accepted, in any letter case.
 * At `/oauth/*` the OAuth scope's error handler (`asOAuthError`) turns the 415 into RFC 6749 §5.2's 400
 * `invalid_request` (`ERR_OAUTH_REQUEST`), as for a body in another media type there, with the same description.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { echoed } from '../services/echoed.js';
import { HttpError } from './errors.js';

/** Media types whose `charset` parameter is checked: the bodies the server parses. */
const TEXT_BODIES = /^\s*(application\/json|application\/x-www-form-urlencoded)\s*(;|$)/i;
/** The one charset bodies are read in, under its names. */
const UTF8 = new Set(['utf-8', 'utf8']);

/** Whether the request carries a body (a non-zero length, or chunks). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined && length.trim() !== '0') return true;
  return request.headers['transfer-encoding'] !== undefined;
}

/** The codings of a `Content-Encoding` field that are not `identity` (empty list items ignored, §5.6.1). */
function codings(field: string | string[] | undefined): string[] {
  return [field ?? '']
    .flat()
    .join(',')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
}

/** The `charset` values of a JSON or form `Content-Type` (none for another type or none given). */
function charsets(contentType: string | undefined): string[] {
  if (contentType === undefined || !TEXT_BODIES.test(contentType)) return [];
  return contentType
    .split(';')
    .slice(1)
    .map((parameter) => parameter.split('='))
    .filter(([name]) => name?.trim().toLowerCase() === 'charset')
    .map(([, value = '']) => value.trim().replace(/^"(.*)"$/, '$1'));
}

/** The refusal: 415, with what the server would have taken. */
function refusal(message: string, headers: Record<string, string>): HttpError {
  return new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', message, { headers });
}

/** Why the request's body cannot be read as it is sent, or undefined when it can. */
export function bodyEncodingProblem(request: FastifyRequest): HttpError | undefined {
  if (!hasBody(request)) return undefined;
  const coded = codings(request.headers['content-encoding']);
  if (coded.length > 0) {
    return refusal(
      `send the body uncompressed: Content-Encoding "${echoed(coded.join(', '))}" is not accepted, only identity`,
      { 'accept-encoding': 'identity' },
    );
  }
  const other = charsets(request.headers['content-type']).find((charset) => !UTF8.has(charset.toLowerCase()));
  if (other !== undefined) {
    return refusal(`send the body in UTF-8: charset "${echoed(other)}" is not accepted`, {});
  }
  return undefined;
}

/** Installs the check on every request, before its body is read. */
export function installBodyEncoding(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const problem = bodyEncodingProblem(request);
    if (problem !== undefined) throw problem;
  });
}
