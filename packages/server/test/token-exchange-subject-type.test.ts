/**
 * Regression (walkthrough 2026-12-02): token exchange accepted `subject_token_type=urn:ietf:params:oauth:token-type:jwt`
 * while the docs and the error for `id_token` said it must be the access-token type. RFC 8693 §3: the type says what
 * the token is, and only access tokens this server issued are exchanged; `…:jwt` says merely "a JWT" (an ID token or
 * any assertion is one too), so it is refused with `invalid_request` and a description saying why. Driven by
 * openid-client's generic grant request.
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, type TestServer } from './support/jot-server.js';
import { adminToken, registerClient, startIssuer } from './support/oauth.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

let server: TestServer;
let config: oidc.Configuration;

beforeAll(async () => {
  server = await startIssuer({ roleScopes: '*=profile' });
  const admin = await adminToken(server);
  const { client, client_secret } = await registerClient(server, admin, {
    name: 'Exchanger',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [EXCHANGE],
    audiences: ['https://orders.internal'],
  });
  config = await oidc.discovery(
    new URL(server.url),
    client.client_id,
    undefined,
    oidc.ClientSecretBasic(client_secret),
    {
      execute: [oidc.allowInsecureRequests],
      algorithm: 'oauth2',
    },
  );
});
afterAll(() => server?.close());

async function refusal(parameters: Record<string, string>): Promise<Record<string, unknown>> {
  const err: unknown = await oidc.genericGrantRequest(config, EXCHANGE, parameters).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(oidc.ResponseBodyError);
  const { status, error, error_description, cause } = err as oidc.ResponseBodyError;
  return { status, error, error_description, code: (cause as { code?: string }).code };
}

describe('token exchange: subject_token_type', () => {
  it('refuses the generic jwt type with invalid_request, saying only access tokens are exchanged', async () => {
    const user = await signUp(server, 'jwt-type@example.com');
    const refused = await refusal({
      subject_token: user.access_token,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    });
    expect(refused).toEqual({
      status: 400,
      error: 'invalid_request',
      code: 'ERR_OAUTH_REQUEST',
      error_description:
        "'subject_token_type' urn:ietf:params:oauth:token-type:jwt is not accepted: only access tokens this server " +
        `issued are exchanged, so it must be ${AT}`,
    });
  });

  it('refuses id_token and a missing type the same way, and exchanges the same token sent as an access token', async () => {
    const user = await signUp(server, 'types@example.com');
    for (const parameters of [
      { subject_token: user.access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' },
      { subject_token: user.access_token },
    ] as Record<string, string>[]) {
      expect(await refusal(parameters)).toMatchObject({
        status: 400,
        error: 'invalid_request',
        code: 'ERR_OAUTH_REQUEST',
        error_description: `'subject_token_type' must be ${AT}: only access tokens this server issued are exchanged`,
      });
    }
    const granted = await oidc.genericGrantRequest(config, EXCHANGE, {
      subject_token: user.access_token,
      subject_token_type: AT,
    });
    expect(granted.issued_token_type).toBe(AT);
  });
});
