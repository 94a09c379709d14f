/**
 * `application/x-www-form-urlencoded` bodies of the OAuth endpoints (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1,
 * RFC 8693 §2.1), and of `/api/introspect` (RFC 7662 for the feed's clients): one parser for all, with
 * `JOT_BODY_LIMIT`. The body is UTF-8 and decoded strictly (http/form-urlencoded.ts): `+` is a space, a malformed
 * percent-escape (`%zz`, a truncated `%4`) or bytes that are not UTF-8 (raw or escaped) are a 400, never text or
 * U+FFFD. A parameter sent twice is refused (RFC 6749 §3.1: "MUST NOT be included more than once") — one sent
 * without a value counts as omitted, so it is no second one; `resource` and `audience` may repeat — before the
 * caller's credential is looked at. Each endpoint answers in its own shape: on the OAuth endpoints 400
 * `invalid_request` with `ERR_OAUTH_REQUEST` (`oauthForm`; the parser's `ERR_VALIDATION` as `asOAuthError` maps it),
 * which take no other media type (`refuseOtherMediaTypes`: a JSON body is not an OAuth request), and 400
 * `ERR_VALIDATION` on `/api/introspect` (`refuseRepeatedParameter`), which takes JSON as well.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { echoed } from '../services/echoed.js';
import type { OAuthForm } from '../services/grants/types.js';
import { HttpError } from './errors.js';
import { decodeForm } from './form-urlencoded.js';
import { oauthError, SEND_A_FORM } from './oauth-errors.js';

/**
 * The client-authentication parameters every OAuth endpoint accepts in its form (RFC 6749 §2.3.1 `client_secret_post`,
 * RFC 7523 §2.2 assertions, `client_id` alone for a public client), as JSON-schema properties for the route docs.
 */
export const CLIENT_AUTH_FORM_FIELDS = {
  client_id: { type: 'string', description: 'the client (public clients, client_secret_post)' },
  client_secret: { type: 'string', description: 'client_secret_post' },
  client_assertion_type: {
    type: 'string',
    description: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  },
  client_assertion: {
    type: 'string',
    description: 'RFC 7523 assertion (private_key_jwt, client_secret_jwt)',
  },
} as const;

/** The form of the endpoints that take one token (RFC 7009 §2.1 revocation, RFC 7662 §2.1 introspection). */
export const TOKEN_FORM_BODY = {
  type: 'object',
  required: ['token'],
  properties: {
    token: { type: 'string', description: 'the access or refresh token' },
    token_type_hint: { type: 'string', description: 'access_token | refresh_token (a hint only)' },
    ...CLIENT_AUTH_FORM_FIELDS,
  },
} as const;

const DUPLICATE = Symbol('duplicate parameter');
const TARGETS = Symbol('resource and audience values');

/** Parameters that may repeat: RFC 8707 `resource` and RFC 8693 `audience`. */
const REPEATABLE: ReadonlySet<string> = new Set(['resource', 'audience']);

type ParsedBody = Record<string, string> & { [DUPLICATE]?: string; [TARGETS]?: string[] };

/**
 * Registers the form parser on an (encapsulated) plugin instance, with the body limit (`JOT_BODY_LIMIT`: over it,
 * 413 `ERR_BODY_TOO_LARGE`). The body is read as UTF-8 (RFC 6749 Appendix B), strictly: a malformed percent-escape
 * or bytes that do not decode are 400 `ERR_VALIDATION` (`decodeForm`).
 */
export function addFormParser(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit },
    (_request, body, done) => {
      let pairs: Array<[string, string]>;
      try {
        pairs = decodeForm(body as Buffer);
      } catch (err) {
        done(err as HttpError, undefined);
        return;
      }
      const form = Object.create(null) as ParsedBody;
      const targets: string[] = [];
      for (const [name, value] of pairs) {
        // A parameter without a value counts as omitted (RFC 6749 §3.1), so `scope=&scope=x` sends one scope.
        if (value === '') continue;
        if (REPEATABLE.has(name)) targets.push(value);
        else if (Object.hasOwn(form, name)) form[DUPLICATE] = name;
        form[name] ??= value;
      }
      form[TARGETS] = targets;
      done(null, form);
    },
  );
}

/**
 * Registers, on an (encapsulated) plugin instance whose only other parser is the form's, a catch-all that refuses a
 * body in any other media type — JSON included, which is never parsed — as 400 `invalid_request`
 * (`ERR_OAUTH_REQUEST`) saying what to send: RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1 and RFC 8693 §2.1 define
 * these requests as forms, and §5.2 answers a malformed one so. (Without it Fastify would answer a 415 whose
 * advice, JSON, is the API's and wrong here.) The body is not read.
 */
export function refuseOtherMediaTypes(app: FastifyInstance): void {
  app.addContentTypeParser('*', (_request, _payload, done) => {
    done(oauthError('invalid_request', 'ERR_OAUTH_REQUEST', SEND_A_FORM), undefined);
  });
}

/** A parameter (not `resource` or `audience`) the request's form sent more than once, or undefined. */
function repeatedParameter(request: FastifyRequest): string | undefined {
  const body = request.body as ParsedBody | undefined;
  return typeof body === 'object' && body !== null ? body[DUPLICATE] : undefined;
}

/** The refusal's description, the same on every endpoint. */
function sentTwice(name: string): string {
  return `the parameter "${echoed(name)}" was sent more than once`;
}

/**
 * A route hook (`preValidation`: before the schema and the caller's credential, as `oauthForm` on the OAuth
 * endpoints) refusing a form parameter sent twice as 400 `ERR_VALIDATION`, for a route of the JSON API that takes
 * the form too (`/api/introspect`). A JSON body passes.
 */
export async function refuseRepeatedParameter(request: FastifyRequest): Promise<void> {
  const repeated = repeatedParameter(request);
  if (repeated !== undefined) throw new HttpError(400, 'ERR_VALIDATION', sentTwice(repeated));
}

/** The request's form, or a 400 `invalid_request`. Empty parameters count as absent (RFC 6749 §3.1). */
export function oauthForm(request: FastifyRequest): OAuthForm {
  const type = request.headers['content-type'] ?? '';
  const body = request.body as ParsedBody | undefined;
  if (!/^application\/x-www-form-urlencoded\b/i.test(type) || typeof body !== 'object' || body === null) {
    throw oauthError('invalid_request', 'ERR_OAUTH_REQUEST', SEND_A_FORM);
  }
  const repeated = repeatedParameter(request);
  if (repeated !== undefined) throw oauthError('invalid_request', 'ERR_OAUTH_REQUEST', sentTwice(repeated));
  const form: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
  for (const [name, value] of Object.entries(body)) if (value !== '') form[name] = value;
  return form;
}

/** A required parameter, or a 400 `invalid_request` naming it. */
export function required(form: OAuthForm, name: string): string {
  const value = form[name];
  if (value === undefined)
    throw oauthError('invalid_request', 'ERR_OAUTH_REQUEST', `the "${name}" parameter is required`);
  return value;
}

/** Every `resource` (RFC 8707) and `audience` (RFC 8693) value of the request, in order. */
export function formTargets(request: FastifyRequest): string[] {
  const body = request.body as ParsedBody | undefined;
  return [...(body?.[TARGETS] ?? [])];
}
