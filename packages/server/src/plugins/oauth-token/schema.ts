/** The schema of `POST /oauth/token`: its form fields (RFC 6749 §6, RFC 8693 §2.1) and its RFC 6749 §5.1 answer. */
import { CLIENT_AUTH_FORM_FIELDS } from '../../http/oauth-form.js';

/** The route's schema; `formBody` documents the form (the route parses and checks it itself). */
export const TOKEN_SCHEMA = {
  formBody: {
    type: 'object',
    required: ['grant_type'],
    properties: {
      grant_type: {
        type: 'string',
        description: 'refresh_token | client_credentials | urn:ietf:params:oauth:grant-type:token-exchange',
      },
      refresh_token: { type: 'string', description: 'refresh_token grant' },
      scope: { type: 'string', description: 'space-separated; narrower only' },
      resource: { type: 'string', description: 'RFC 8707 audience; may repeat' },
      audience: { type: 'string', description: 'RFC 8693 audience; may repeat' },
      subject_token: { type: 'string', description: 'token exchange: the user access token' },
      subject_token_type: { type: 'string', description: 'urn:ietf:params:oauth:token-type:access_token' },
      requested_token_type: { type: 'string', description: 'urn:ietf:params:oauth:token-type:access_token' },
      ...CLIENT_AUTH_FORM_FIELDS,
    },
  },
  tags: ['oauth'],
  summary:
    'OAuth 2 token endpoint (form-encoded): refresh_token, client_credentials and token exchange (RFC 8693).',
  description:
    'Client authentication: client_secret_basic, client_secret_post, private_key_jwt, client_secret_jwt ' +
    '(RFC 7523), or client_id alone for the public first-party client. Errors follow RFC 6749 §5.2. ' +
    'A DPoP header (RFC 9449) binds the access token (token_type "DPoP") and a refresh-token family to ' +
    "the proof's key; refusals are invalid_dpop_proof, or use_dpop_nonce with a DPoP-Nonce header.",
  response: {
    200: {
      type: 'object',
      required: ['access_token', 'token_type', 'expires_in'],
      properties: {
        access_token: { type: 'string' },
        token_type: { type: 'string', enum: ['Bearer', 'DPoP'] },
        expires_in: { type: 'integer' },
        scope: { type: 'string' },
        refresh_token: { type: 'string' },
        issued_token_type: { type: 'string' },
      },
    },
    400: { $ref: 'JotError#' },
    401: { $ref: 'JotError#' },
    429: { $ref: 'JotError#' },
  },
};
