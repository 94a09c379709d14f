/**
 * Schemas the admin client routes share: the client as the API shows it, its id, its DPoP and introspection
 * policies.
 */
import { DPOP_POLICIES, INTROSPECTION_POLICIES } from '../../services/client-rules.js';

export { idParams } from '../../http/schemas.js';

/** A client as the API shows it. */
export const clientSchema = {
  type: 'object',
  properties: {
    client_id: { type: 'string' },
    name: { type: 'string' },
    token_endpoint_auth_method: { type: 'string' },
    jwks: { type: 'object', additionalProperties: true },
    jwks_uri: { type: 'string' },
    grant_types: { type: 'array', items: { type: 'string' } },
    scopes: { type: 'array', items: { type: 'string' } },
    audiences: { type: 'array', items: { type: 'string' } },
    access_token_ttl: { type: ['integer', 'null'] },
    first_party: { type: 'boolean' },
    dpop: { type: 'string', enum: [...DPOP_POLICIES] },
    dpop_bound_access_tokens: { type: 'boolean' },
    introspection: { type: 'string', enum: [...INTROSPECTION_POLICIES] },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
    secret_rotated_at: { type: ['string', 'null'] },
  },
} as const;

/** The DPoP policy, as Jot names it and as RFC 9449 §5.2 client metadata. */
export const dpopFields = {
  dpop: {
    type: 'string',
    enum: [...DPOP_POLICIES],
    description: 'required: token requests without a DPoP proof are refused (default optional)',
  },
  dpop_bound_access_tokens: { type: 'boolean', description: 'RFC 9449 §5.2: true is dpop "required"' },
} as const;

/**
 * Which access tokens the client may introspect. A string, not an enum: a wrong value is the registry's 400
 * `ERR_CLIENT_INVALID`, whose message names the two values and what each means.
 */
export const introspectionField = {
  introspection: {
    type: 'string',
    maxLength: 16,
    description:
      'own (default): only access tokens issued to this client or naming it in aud; any: every access token ' +
      '(a resource server). Others introspect as {"active": false}',
  },
} as const;

/** A client with its new secret: the only answers that carry one. */
export const withSecret = {
  type: 'object',
  properties: { client: clientSchema, client_secret: { type: 'string' } },
} as const;
