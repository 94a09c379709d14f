/**
 * The session API's request bodies hold both ways. At the type level (`npm run typecheck` checks this file): the
 * server's JSON schemas for sign-in, registration, reauthentication and password change list exactly the members
 * of the contract's bodies (and require exactly its required ones), the server reads them as the contract's types,
 * and `@jot/client` and the web UI build them as those types. At run time, against a real server: each full
 * contract body is accepted (sign-in in every `SessionDelivery`), and a body with a member the contract does not
 * declare, or without one it requires, is refused with 400 `ERR_VALIDATION`.
 */
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';

import {
  ENDPOINTS,
  SESSION_DELIVERIES,
  type LoginBody,
  type PasskeyLoginBody,
  type PasswordChangeBody,
  type ReauthBody,
  type RegisterBody,
  type SessionDelivery,
} from '../src/index.js';

import type { ClientOptions, DeliveryMode } from '../../client/src/index.js';
import type { loginBody, passkeyLoginBody, reauthBody } from '../../client/src/session-bodies.js';
import type { Config } from '../../server/src/config/index.js';
import type {
  deliverySchema,
  loginBodySchema,
  passwordChangeBodySchema,
  reauthBodySchema,
  registerBodySchema,
} from '../../server/src/http/session-body-schemas.js';
import type { loginSchema as passkeyLoginSchema } from '../../server/src/plugins/passkeys/login.js';
import type { Session } from '../../server/src/store/index.js';
import { startServer, type TestServer } from '../../server/test/support/jot-server.js';
import type { BodyKeys, SchemaKeys } from './support/schema-types.js';

describe("the server's body schemas accept exactly the contract bodies (types)", () => {
  it('lists every member of each body and requires exactly its required ones', () => {
    expectTypeOf<SchemaKeys<typeof loginBodySchema>>().toEqualTypeOf<BodyKeys<LoginBody>>();
    expectTypeOf<SchemaKeys<typeof registerBodySchema>>().toEqualTypeOf<BodyKeys<RegisterBody>>();
    expectTypeOf<SchemaKeys<typeof reauthBodySchema>>().toEqualTypeOf<BodyKeys<ReauthBody>>();
    expectTypeOf<SchemaKeys<typeof passwordChangeBodySchema>>().toEqualTypeOf<BodyKeys<PasswordChangeBody>>();
    type PasskeyBody = (typeof passkeyLoginSchema)['body'];
    expectTypeOf<SchemaKeys<PasskeyBody>>().toEqualTypeOf<BodyKeys<PasskeyLoginBody>>();
  });

  it('names the session deliveries once: schema, configuration, store and client', () => {
    expectTypeOf<(typeof deliverySchema)['enum'][number]>().toEqualTypeOf<SessionDelivery>();
    expectTypeOf<Config['tokenDelivery']>().toEqualTypeOf<SessionDelivery>();
    expectTypeOf<Session['delivery']>().toEqualTypeOf<SessionDelivery>();
    expectTypeOf<DeliveryMode>().toEqualTypeOf<SessionDelivery>();
    expectTypeOf<ClientOptions['mode']>().toEqualTypeOf<SessionDelivery>();
  });

  it('@jot/client sends the contract bodies', () => {
    expectTypeOf<ReturnType<typeof loginBody>>().toEqualTypeOf<LoginBody>();
    expectTypeOf<ReturnType<typeof passkeyLoginBody>>().toEqualTypeOf<PasskeyLoginBody>();
    expectTypeOf<ReturnType<typeof reauthBody>>().toEqualTypeOf<ReauthBody>();
  });
});

/** Routes the web UI calls (not in `ENDPOINTS`, which lists what the SDKs call). */
const REGISTER_PATH = '/api/register';
const PASSWORD_PATH = '/api/password';

const EMAIL = 'contract-bodies@example.com';
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'another horse battery staple';

/** Each body with every member (`Required<…>` makes the lists exhaustive: a member added to a type fails typecheck). */
const REGISTER = {
  email: EMAIL,
  password: PASSWORD,
  name: 'Contract Bodies',
} satisfies Required<RegisterBody>;
const login = (delivery: SessionDelivery): Required<LoginBody> => ({
  email: EMAIL,
  password: PASSWORD,
  delivery,
  // No credential the server gave: simply none (the sign-in goes on as without one).
  device_token: 'not-a-device-token',
});
const REAUTH = { password: PASSWORD } satisfies Required<ReauthBody>;
const CHANGE = {
  current_password: PASSWORD,
  new_password: NEW_PASSWORD,
} satisfies Required<PasswordChangeBody>;

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.close();
});

/** Expects 400 `ERR_VALIDATION` for `body` at `path`. */
async function expectRefused(path: string, body: Record<string, unknown>, token?: string): Promise<void> {
  const res = await server.request('POST', path, { body, token });
  expect(res.status, `${path} ${JSON.stringify(Object.keys(body))}`).toBe(400);
  expect(res.body.code).toBe('ERR_VALIDATION');
}

/** A copy of `body` without `key`. */
function without(body: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([k]) => k !== key));
}

/** Refuses `body` with an unknown member, and `body` without each of its `required` members. */
async function expectOnlyContract(
  path: string,
  body: Record<string, unknown>,
  required: readonly string[],
  token?: string,
): Promise<void> {
  await expectRefused(path, { ...body, unexpected: true }, token);
  for (const key of required) await expectRefused(path, without(body, key), token);
}

describe('the server accepts the contract bodies and nothing else (run time)', () => {
  it('registers an account from the full contract body, refusing anything else', async () => {
    await expectOnlyContract(REGISTER_PATH, REGISTER, ['email', 'password']);
    const res = await server.request('POST', REGISTER_PATH, { body: REGISTER });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: EMAIL, name: REGISTER.name });
  });

  it('signs in with every session delivery the contract names', async () => {
    await expectOnlyContract(ENDPOINTS.login, login('bearer'), ['email', 'password']);
    await expectRefused(ENDPOINTS.login, { ...login('bearer'), delivery: 'carrier-pigeon' });
    await expectRefused(ENDPOINTS.login, { ...login('bearer'), device_token: 42 });
    for (const delivery of SESSION_DELIVERIES) {
      const res = await server.request('POST', ENDPOINTS.login, { body: login(delivery) });
      expect(res.status, delivery).toBe(200);
      // RFC 6749 §5.1 body for bearer; the anti-CSRF token instead of a body refresh token for the cookie modes.
      expect(res.body.refresh_token !== undefined, delivery).toBe(delivery === 'bearer');
      expect(res.body.csrf_token !== undefined, delivery).toBe(delivery !== 'bearer');
      // The device credential in the body for bearer only; the cookie modes have it in the device cookie.
      expect(res.body.device_token !== undefined, delivery).toBe(delivery === 'bearer');
    }
  });

  it('reauthenticates and changes the password from the contract bodies, refusing anything else', async () => {
    const signedIn = await server.request('POST', ENDPOINTS.login, { body: login('bearer') });
    const token = signedIn.body.access_token as string;
    await expectOnlyContract(ENDPOINTS.reauth, REAUTH, ['password'], token);
    const reauth = await server.request('POST', ENDPOINTS.reauth, { body: REAUTH, token });
    expect(reauth.status).toBe(200);
    const fresh = reauth.body.access_token as string;
    await expectOnlyContract(PASSWORD_PATH, CHANGE, ['current_password', 'new_password'], fresh);
    const changed = await server.request('POST', PASSWORD_PATH, { body: CHANGE, token: fresh });
    expect(changed.status).toBe(200);
    const again = await server.request('POST', ENDPOINTS.login, {
      body: { email: EMAIL, password: NEW_PASSWORD } satisfies LoginBody,
    });
    expect(again.status).toBe(200);
  });
});
