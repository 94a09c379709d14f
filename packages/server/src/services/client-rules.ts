/**
 * The rules of the OAuth client registry that more than one place needs: the grant types, authentication methods,
 * DPoP policies (also published in the discovery document) and introspection policies a client may have, which
 * methods use a secret, and the one error for a registration or change that breaks them.
 */
import { OAUTH_URIS, type ClientUpdate } from '@jot/contract';

import type { ClientAuthMethod, ClientDPoPPolicy, ClientIntrospectionPolicy } from '../store/index.js';
import { DomainError } from './errors.js';

/** The grant types a client may be allowed. */
export const GRANT_TYPES = ['client_credentials', 'refresh_token', OAUTH_URIS.tokenExchangeGrant] as const;

/** Client authentication methods (RFC 8414 §2 `token_endpoint_auth_methods_supported`). */
export const AUTH_METHODS: readonly ClientAuthMethod[] = [
  'private_key_jwt',
  'client_secret_jwt',
  'client_secret_basic',
  'client_secret_post',
  'none',
];

/** The DPoP policies a client may have. */
export const DPOP_POLICIES: readonly ClientDPoPPolicy[] = ['optional', 'required'];

/** Which access tokens a client may introspect: `own` (issued to it or naming it in `aud`) or `any`. */
export const INTROSPECTION_POLICIES: readonly ClientIntrospectionPolicy[] = ['own', 'any'];

/** The 400 for a client registration or change that breaks a rule. */
export function clientInvalid(message: string): DomainError {
  return new DomainError('invalid', 'ERR_CLIENT_INVALID', message);
}

/** Whether a client of this method authenticates with a secret (shown once, stored hashed). */
export function usesSecret(method: ClientAuthMethod): boolean {
  return (
    method === 'client_secret_basic' || method === 'client_secret_post' || method === 'client_secret_jwt'
  );
}

/** The DPoP policy asked for by `dpop` and/or `dpop_bound_access_tokens` (which must agree), if any. */
export function dpopPolicyOf(input: ClientUpdate): ClientDPoPPolicy | undefined {
  const { dpop, dpop_bound_access_tokens: bound } = input;
  if (dpop !== undefined && !DPOP_POLICIES.includes(dpop)) {
    throw clientInvalid(`dpop must be one of ${DPOP_POLICIES.join(', ')}`);
  }
  if (bound !== undefined && typeof bound !== 'boolean')
    throw clientInvalid('dpop_bound_access_tokens: true or false');
  const fromBound = bound === undefined ? undefined : bound ? 'required' : 'optional';
  if (dpop !== undefined && fromBound !== undefined && dpop !== fromBound) {
    throw clientInvalid('"dpop" and "dpop_bound_access_tokens" disagree; send one of them');
  }
  return dpop ?? fromBound;
}

/**
 * The introspection policy asked for by `introspection`, if any, for a client of `method`: a public client may
 * introspect no access token (RFC 7662 §2.1), so `any` is refused for it rather than stored and ignored.
 */
export function introspectionPolicyOf(
  input: { introspection?: unknown },
  method: ClientAuthMethod,
): ClientIntrospectionPolicy | undefined {
  const { introspection } = input;
  if (introspection === undefined) return undefined;
  if (!(INTROSPECTION_POLICIES as readonly unknown[]).includes(introspection)) {
    throw clientInvalid(
      'introspection must be "own" (access tokens issued to this client or naming it in aud) or "any" ' +
        '(every access token: for a resource server)',
    );
  }
  if (introspection === 'any' && method === 'none') {
    throw clientInvalid(
      'introspection "any" is not for a public client (none): it cannot introspect access tokens at all',
    );
  }
  return introspection as ClientIntrospectionPolicy;
}
