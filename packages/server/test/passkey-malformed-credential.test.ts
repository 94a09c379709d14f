/**
 * A passkey credential that is not structurally a WebAuthn response — client data that does not decode to a JSON
 * object, an attestation object that is not CBOR, authenticator data too short, fields of the wrong type — is a
 * malformed request: 400 `ERR_PASSKEY_MALFORMED` with Jot's own message, at registration, passwordless sign-in and
 * step-up alike, and it spends no challenge. A well-formed response that does not verify keeps its code
 * (`ERR_PASSKEY_INVALID`, 403 for a signed-in user, 401 at a sign-in). No answer carries the WebAuthn library's
 * own error text (a TypeError's "Cannot destructure property…", its "Unexpected … origin" lines with the allowed
 * origins, the challenge).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isoCBOR } from '@simplewebauthn/server/helpers';

import { startServer, type TestResponse, type TestServer, signUpVerified } from './support/jot-server.js';
import { registerPasskey, TEST_ORIGIN } from './support/passkey-registration.js';
import {
  assertionResponse,
  newCredential,
  registrationResponse,
  type SoftCredential,
} from './support/soft-authenticator.js';

const PASSWORD = 'correct horse battery';
const b64url = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url');
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

/** Library wording that must never reach a client. */
const LIBRARY_TEXT =
  /Cannot |destructure|TypeError|undefined|Unexpected|Custom challenge verifier|expected one of/;

function expectMalformed(res: TestResponse, label: string): void {
  expect(res.status, `${label}: ${res.text}`).toBe(400);
  expect(res.body.code, label).toBe('ERR_PASSKEY_MALFORMED');
  expect(res.body.error, label).toBe('invalid_request');
  expect(res.body.error_description, label).toMatch(/^the passkey credential is malformed: /);
  expect(res.body.error_description, label).not.toMatch(LIBRARY_TEXT);
}

function expectInvalid(res: TestResponse, status: number, reason: RegExp): void {
  expect(res.status, res.text).toBe(status);
  expect(res.body.code).toBe('ERR_PASSKEY_INVALID');
  expect(res.body.error_description).toMatch(reason);
  expect(res.body.error_description).not.toMatch(LIBRARY_TEXT);
}

type Json = Record<string, any>;
/** A deep copy of a credential JSON with `change` applied. */
function changed(credential: Json, change: (c: Json) => void): Json {
  const copy = structuredClone(credential);
  change(copy);
  return copy;
}

const clientData = (value: unknown): string => b64url(JSON.stringify(value));

/** Ways to break a registration response's structure (each applied to a valid response). */
const BROKEN_REGISTRATIONS: [string, (c: Json) => void][] = [
  ['clientDataJSON decoding to null', (c) => (c.response.clientDataJSON = 'bnVsbA')],
  ['clientDataJSON not a string', (c) => (c.response.clientDataJSON = 42)],
  ['clientDataJSON not base64url', (c) => (c.response.clientDataJSON = '***')],
  ['clientDataJSON not JSON', (c) => (c.response.clientDataJSON = b64url('{not json'))],
  ['clientDataJSON an array', (c) => (c.response.clientDataJSON = clientData([1, 2]))],
  [
    'clientDataJSON without a challenge',
    (c) => (c.response.clientDataJSON = clientData({ type: 'webauthn.create', origin: TEST_ORIGIN })),
  ],
  [
    'clientDataJSON with a numeric origin',
    (c) => (c.response.clientDataJSON = clientData({ type: 'webauthn.create', challenge: 'abc', origin: 1 })),
  ],
  ['attestationObject an empty CBOR map', (c) => (c.response.attestationObject = 'oA')],
  ['attestationObject not CBOR', (c) => (c.response.attestationObject = b64url(Buffer.from([0xff, 0xff])))],
  ['attestationObject missing', (c) => delete c.response.attestationObject],
  ['attestationObject a CBOR number', (c) => (c.response.attestationObject = b64url(isoCBOR.encode(7)))],
  [
    'authData too short',
    (c) =>
      (c.response.attestationObject = b64url(
        isoCBOR.encode(
          new Map<string, unknown>([
            ['fmt', 'none'],
            ['attStmt', new Map()],
            ['authData', new Uint8Array(10)],
          ]) as never,
        ),
      )),
  ],
  ['response a string', (c) => (c.response = 'x')],
  ['type not public-key', (c) => (c.type = 'password')],
  ['rawId different from id', (c) => (c.rawId = `${c.rawId as string}AA`)],
  ['id not a string', (c) => (c.id = 5)],
];

describe('POST /api/passkeys/register', () => {
  let token: string;
  let credential: SoftCredential;

  beforeAll(async () => {
    const user = await signUpVerified(server, 'malformed-register@example.com', PASSWORD);
    token = user.access_token;
    credential = newCredential(user.userId);
  });

  it("the review's request (client data decoding to null, an empty attestation): 400 ERR_PASSKEY_MALFORMED", async () => {
    const res = await server.request('POST', '/api/passkeys/register', {
      token,
      body: {
        credential: {
          id: 'x',
          rawId: 'x',
          type: 'public-key',
          response: { clientDataJSON: 'bnVsbA', attestationObject: 'oA' },
        },
      },
    });
    expectMalformed(res, 'review request');
    expect(res.body.error_description).toMatch(/clientDataJSON/);
  });

  it('every structurally broken response: 400 ERR_PASSKEY_MALFORMED; the challenge still registers', async () => {
    const options = await server.request('POST', '/api/passkeys/register/options', { token });
    expect(options.status, options.text).toBe(200);
    const valid = registrationResponse(credential, options.body, TEST_ORIGIN) as Json;
    for (const [label, breakIt] of BROKEN_REGISTRATIONS) {
      const res = await server.request('POST', '/api/passkeys/register', {
        token,
        body: { credential: changed(valid, breakIt) },
      });
      expectMalformed(res, label);
    }
    // None of them spent the challenge or an attempt on it that matters: the real answer still registers.
    const ok = await server.request('POST', '/api/passkeys/register', { token, body: { credential: valid } });
    expect(ok.status, ok.text).toBe(201);
  });

  it('a well-formed response for another origin: 403 ERR_PASSKEY_INVALID in our words', async () => {
    const user = await signUpVerified(server, 'other-origin@example.com', PASSWORD);
    const res = await registerPasskey(server, user.access_token, newCredential(user.userId), {
      origin: 'http://evil.test',
    });
    expectInvalid(res, 403, /origin/);
    expect(res.body.error_description).not.toContain(TEST_ORIGIN);
  });

  it('a well-formed response to a challenge never issued: 403 ERR_PASSKEY_INVALID, the challenge not echoed', async () => {
    const user = await signUpVerified(server, 'unknown-challenge@example.com', PASSWORD);
    const options = await server.request('POST', '/api/passkeys/register/options', {
      token: user.access_token,
    });
    const forged = { ...options.body, challenge: b64url('a challenge nobody issued') };
    const res = await server.request('POST', '/api/passkeys/register', {
      token: user.access_token,
      body: { credential: registrationResponse(newCredential(user.userId), forged, TEST_ORIGIN) },
    });
    expectInvalid(res, 403, /challenge/);
    expect(res.body.error_description).not.toContain(forged.challenge);
  });
});

describe('assertions', () => {
  let token: string;
  let credential: SoftCredential;

  beforeAll(async () => {
    const user = await signUpVerified(server, 'malformed-assertion@example.com', PASSWORD);
    token = user.access_token;
    credential = newCredential(user.userId);
    const registered = await registerPasskey(server, user.access_token, credential);
    expect(registered.status, registered.text).toBe(201);
  });

  /** Ways to break an assertion of the registered credential (its id stays, so the lookup would succeed). */
  const BROKEN_ASSERTIONS: [string, (c: Json) => void][] = [
    ['clientDataJSON decoding to null', (c) => (c.response.clientDataJSON = 'bnVsbA')],
    ['clientDataJSON not a string', (c) => (c.response.clientDataJSON = { a: 1 })],
    ['authenticatorData too short', (c) => (c.response.authenticatorData = b64url(new Uint8Array(5)))],
    ['authenticatorData missing', (c) => delete c.response.authenticatorData],
    ['signature not a string', (c) => (c.response.signature = 12)],
    ['signature not base64url', (c) => (c.response.signature = '!!')],
    ['userHandle a number', (c) => (c.response.userHandle = 3)],
    ['response missing', (c) => (c.response = null)],
  ];

  it('POST /api/passkeys/login with a broken assertion: 400 ERR_PASSKEY_MALFORMED; the challenge still signs in', async () => {
    const options = await server.request('POST', '/api/passkeys/login/options');
    expect(options.status, options.text).toBe(200);
    const valid = assertionResponse(credential, options.body, TEST_ORIGIN) as Json;
    for (const [label, breakIt] of BROKEN_ASSERTIONS) {
      const res = await server.request('POST', '/api/passkeys/login', {
        body: { credential: changed(valid, breakIt) },
      });
      expectMalformed(res, label);
    }
    const ok = await server.request('POST', '/api/passkeys/login', { body: { credential: valid } });
    expect(ok.status, ok.text).toBe(200);
  });

  it('POST /api/passkeys/login, well-formed but not verifying: 401 ERR_PASSKEY_INVALID in our words', async () => {
    const spoiledOptions = await server.request('POST', '/api/passkeys/login/options');
    const spoiled = await server.request('POST', '/api/passkeys/login', {
      body: { credential: assertionResponse(credential, spoiledOptions.body, TEST_ORIGIN, true) },
    });
    expectInvalid(spoiled, 401, /signature/);
    const elsewhereOptions = await server.request('POST', '/api/passkeys/login/options');
    const elsewhere = await server.request('POST', '/api/passkeys/login', {
      body: { credential: assertionResponse(credential, elsewhereOptions.body, 'http://evil.test') },
    });
    expectInvalid(elsewhere, 401, /origin/);
  });

  it('POST /api/mfa/step-up with a broken assertion: 400 ERR_PASSKEY_MALFORMED, not 403', async () => {
    const options = await server.request('POST', '/api/mfa/step-up/passkey-options', { token });
    expect(options.status, options.text).toBe(200);
    const valid = assertionResponse(credential, options.body, TEST_ORIGIN) as Json;
    const res = await server.request('POST', '/api/mfa/step-up', {
      token,
      body: { webauthn: changed(valid, (c) => (c.response.clientDataJSON = 'bnVsbA')) },
    });
    expectMalformed(res, 'step-up');
  });
});
