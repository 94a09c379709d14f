/**
 * How the service authenticates each token request (RFC 6749 §2.3): with `private_key_jwt` or
 * `client_secret_jwt` a fresh RFC 7523 client assertion is added to the form on every call (an assertion is used
 * once, so a retry needs a new one); with `client_secret_basic` the same `Authorization: Basic` header every time.
 */
import { Buffer } from 'node:buffer';

import { OAUTH_URIS } from '@jot/contract';
import { importJWK, importPEM, importSecret, Key, type Algorithm, type JWK } from '@jot/jose';

import { assertionMaker } from './assertion.js';
import type { ServiceCredentials } from './options.js';

/** Adds the client authentication to one request's form; returns the headers it needs. */
export type ClientAuthentication = (params: URLSearchParams) => Record<string, string>;

function importPrivateKey(
  value: string | JWK | Key,
  kid: string | undefined,
  alg: Algorithm | undefined,
): Key {
  if (value instanceof Key) {
    if (value.type !== 'private') throw new TypeError('service: "privateKey" must be a private key');
    return value;
  }
  const keyOptions = { ...(kid === undefined ? {} : { kid }), ...(alg === undefined ? {} : { alg }) };
  const key = typeof value === 'string' ? importPEM(value, keyOptions) : importJWK(value, keyOptions);
  if (key.type !== 'private') throw new TypeError('service: "privateKey" must be a private key');
  return key;
}

/** The client authentication for `credentials`; key errors are `TypeError`s thrown here. */
export function clientAuthentication(
  credentials: ServiceCredentials,
  clientId: string,
  issuer: string,
  clock: () => number,
): ClientAuthentication {
  if ('privateKey' in credentials || credentials.method === 'client_secret_jwt') {
    const key =
      'privateKey' in credentials
        ? importPrivateKey(credentials.privateKey, credentials.kid, credentials.alg)
        : importSecret(Buffer.from(credentials.clientSecret, 'utf8'), { alg: 'HS256' });
    const makeAssertion = assertionMaker(key, clientId, issuer);
    return (params) => {
      params.set('client_assertion_type', OAUTH_URIS.jwtBearerAssertion);
      params.set('client_assertion', makeAssertion(clock()));
      return {};
    };
  }
  // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined.
  const joined = `${encodeURIComponent(clientId)}:${encodeURIComponent(credentials.clientSecret)}`;
  const header = { authorization: `Basic ${Buffer.from(joined).toString('base64')}` };
  return () => header;
}
