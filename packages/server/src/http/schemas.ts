/** JSON schemas shared by several routes (request bodies and the token / error responses). */

/** `{ error, error_description, code }` — every error response. */
export const errorSchema = {
  $id: 'JotError',
  type: 'object',
  required: ['error', 'error_description', 'code'],
  properties: {
    error: { type: 'string' },
    error_description: { type: 'string' },
    code: { type: 'string' },
  },
} as const;

/** The token response of login, refresh, renew and reauth (RFC 6749 §5.1 shape). */
export const tokenResponseSchema = {
  type: 'object',
  required: ['token_type', 'expires_in'],
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer', 'DPoP'] },
    expires_in: { type: 'integer' },
    refresh_token: { type: 'string' },
    csrf_token: { type: 'string' },
    device_token: {
      type: 'string',
      description:
        'After a sign-in with body delivery (bearer): the device credential, to send as device_token on the next sign-ins.',
    },
  },
} as const;

/**
 * An email address: bounded, one `@`, no spaces. Deliverability is not our concern here. The rest of what makes an
 * address one an account can have (a domain name as its domain, no invisible characters) is services/accounts.ts
 * `checkEmail`'s: 400 `ERR_EMAIL_INVALID` with a message saying what is wrong.
 */
export const emailSchema = {
  type: 'string',
  minLength: 3,
  maxLength: 254,
  pattern: '^[^\\s@]+@[^\\s@]+$',
} as const;

/** A password presented to sign in or confirm (never longer than a password can be set to). */
export const passwordSchema = { type: 'string', minLength: 1, maxLength: 1024 } as const;

/**
 * A password being chosen: only a string here, so every length rule is the policy's `ERR_WEAK_PASSWORD` with its
 * clear message (a 1,025-character password is weak, not malformed); the body limit bounds its size.
 */
export const newPasswordSchema = { type: 'string' } as const;

/** The path parameters of a route on one row (`/…/:id`): a user, session, factor or client id. */
export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** Error responses a protected route can give. */
export const authErrors = {
  400: { $ref: 'JotError#' },
  401: { $ref: 'JotError#' },
  403: { $ref: 'JotError#' },
} as const;

/**
 * The responses of a route that answers with tokens (sign-in, refresh, renew, step-up, password change): the token
 * response, and the `JotError` body under each status in `errors`.
 */
export function tokenRouteResponses(...errors: readonly number[]): Record<number, object> {
  const responses: Record<number, object> = { 200: tokenResponseSchema };
  for (const status of errors) responses[status] = { $ref: 'JotError#' };
  return responses;
}
