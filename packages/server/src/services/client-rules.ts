/**
 * The rules of the OAuth client registry that more than one place needs: the grant types, authentication methods
 * and DPoP policies a client may have (also published in the discovery document), which methods use a secret, and
 * the one error for a registration or change that breaks them.
 */
import { OAUTH_URIS, type ClientUpdate } from '@jot/contract';

import type { ClientAuthMethod, ClientDPoPPolicy } from '../store/index.js';
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
