/**
 * The wire contract holds both ways. At the type level (`npm run typecheck` checks this file): the server's
 * serialisers and handlers produce the contract's shapes, and `@jot/verify`, `@jot/client` and `@jot/service` read
 * them as the contract's shapes, so changing one side alone fails to compile. At run time, against a real server:
 * each response carries exactly the members the contract declares (the key lists below are checked exhaustive
 * against the types), every error body is `{ error, error_description, code }` with a registered code, and every
 * endpoint and well-known path the SDKs call is a route the server has.
 */
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';

import type { FEED_EVENTS } from '../src/index.js';
import {
  COOKIES,
  ENDPOINTS,
  isJotErrorCode,
  WELL_KNOWN,
  type AccessTokenClaims,
  type AuthorizationServerMetadata,
  type ClientView,
  type ClientWithSecret,
  type ErrorBody,
  type FeedEntry,
  type FeedEventData,
  type FeedEventName,
  type FeedPage,
  type IntrospectionResponse,
  type InvitationListView,
  type InvitationView,
  type MfaFactorView,
  type MfaProofFields,
  type MfaRequiredBody,
  type MfaSignInBody,
  type MfaStatusView,
  type OAuthTokenResponse,
  type SecurityEventView,
  type SessionTokenResponse,
  type SessionsRevokedView,
  type SessionView,
  type SigningKeyView,
  type TokenLocation,
  type UserAccessTokenClaims,
  type UserRevocationState,
  type UserView,
  type WhoAmIResponse,
} from '../src/index.js';

import type { JotClient } from '../../client/src/index.js';
import type { mfaSignInBody, proofFields } from '../../client/src/mfa.js';
import type { snapshotFrom } from '../../client/src/token-response.js';
import type { HttpError } from '../../server/src/http/errors.js';
import type { AuthContext } from '../../server/src/context.js';
import type { errorSchema, tokenResponseSchema } from '../../server/src/http/schemas.js';
import type { sseFrame } from '../../server/src/http/feed-wire.js';
import type { pageToWire, toWire } from '../../server/src/services/feed-wire.js';
import type { accessTokenIntrospection } from '../../server/src/http/introspection.js';
import type {
  factorSchema,
  proofOf,
  proofProperties,
  publicFactor,
} from '../../server/src/http/mfa-schemas.js';
import type { tokenResponse } from '../../server/src/http/token-response.js';
import type { publicSession, publicUser, sessionSchema, userSchema } from '../../server/src/http/views.js';
import type { clientSchema } from '../../server/src/plugins/admin-clients/schemas.js';
import type { sessionsRevokedSchema } from '../../server/src/plugins/admin-users/sessions.js';
import type { publicSigningKey, signingKeySchema } from '../../server/src/plugins/admin-keys.js';
import type { invitationSchema, invitationView } from '../../server/src/plugins/invitations/view.js';
import type { metadataSchema } from '../../server/src/plugins/jwks.js';
import type { clientView } from '../../server/src/services/client-view.js';
import type { GrantHandler } from '../../server/src/services/grants/types.js';
import type { MfaRequiredBody as ServerMfaRequiredBody } from '../../server/src/services/mfa-signin.js';
import type { userState } from '../../server/src/services/revocation.js';
import type { TokenService } from '../../server/src/services/tokens.js';
import type { requestToken } from '../../service/src/token-endpoint.js';
import type { AccessTokenClaims as VerifiedClaims, ErrorResponse } from '../../verify/src/index.js';
import type { IssuerMetadata } from '../../verify/src/discovery.js';
import type { parseFeedEntry } from '../../verify/src/revocation/state.js';
import type { RequestAuthContext } from '../../verify/src/request.js';
import type { ExtractedToken } from '../../verify/src/token.js';
import type { VerifiedAuth } from '../../verify/src/types.js';
import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import type { SchemaMembers, SchemaRequired } from './support/schema-types.js';

describe('the server writes the contract (types)', () => {
  it('serialises users, sessions, keys, clients, factors, invitations and feed entries as the contract views', () => {
    expectTypeOf<ReturnType<typeof publicUser>>().toEqualTypeOf<UserView>();
    expectTypeOf<ReturnType<typeof publicSession>>().toEqualTypeOf<SessionView>();
    expectTypeOf<ReturnType<typeof publicSigningKey>>().toEqualTypeOf<SigningKeyView>();
    expectTypeOf<ReturnType<typeof clientView>>().toEqualTypeOf<ClientView>();
    expectTypeOf<ReturnType<typeof publicFactor>>().toEqualTypeOf<MfaFactorView>();
    expectTypeOf<ReturnType<typeof invitationView>>().toEqualTypeOf<InvitationView>();
    expectTypeOf<ReturnType<typeof toWire>>().toEqualTypeOf<FeedEntry>();
    expectTypeOf<ReturnType<typeof pageToWire>>().toEqualTypeOf<FeedPage>();
    expectTypeOf<ReturnType<typeof userState>>().toEqualTypeOf<UserRevocationState>();
    expectTypeOf<Parameters<typeof sseFrame<'revocation'>>[1]>().toEqualTypeOf<FeedEntry>();
    expectTypeOf<Parameters<typeof sseFrame>[0]>().toEqualTypeOf<FeedEventName>();
  });

  it('answers tokens, errors and introspection in the contract shapes', () => {
    expectTypeOf<ReturnType<typeof tokenResponse>>().toEqualTypeOf<SessionTokenResponse>();
    expectTypeOf<Awaited<ReturnType<GrantHandler>>>().toEqualTypeOf<OAuthTokenResponse>();
    expectTypeOf<ReturnType<HttpError['toBody']>>().toEqualTypeOf<ErrorBody>();
    expectTypeOf<ReturnType<typeof accessTokenIntrospection>>().toEqualTypeOf<IntrospectionResponse>();
    expectTypeOf<ServerMfaRequiredBody>().toEqualTypeOf<MfaRequiredBody>();
    expectTypeOf<MfaRequiredBody>().toMatchTypeOf<ErrorBody>();
  });

  it('signs the contract claims', () => {
    expectTypeOf<
      Awaited<ReturnType<TokenService['issue']>>['claims']
    >().toEqualTypeOf<UserAccessTokenClaims>();
    expectTypeOf<
      Awaited<ReturnType<TokenService['issueForClient']>>['claims']
    >().toEqualTypeOf<AccessTokenClaims>();
    expectTypeOf<ReturnType<TokenService['verify']>>().toEqualTypeOf<UserAccessTokenClaims>();
    expectTypeOf<UserAccessTokenClaims>().toMatchTypeOf<AccessTokenClaims>();
  });

  it('names where a token was found with the one contract type, in the server and in @jot/verify', () => {
    expectTypeOf<AuthContext['via']>().toEqualTypeOf<TokenLocation>();
    expectTypeOf<ExtractedToken['via']>().toEqualTypeOf<TokenLocation>();
    expectTypeOf<VerifiedAuth['via']>().toEqualTypeOf<TokenLocation>();
    expectTypeOf<RequestAuthContext['via']>().toEqualTypeOf<TokenLocation>();
  });
});

describe("the server's response schemas list the contract members (types)", () => {
  it('documents and serialises exactly the members of each view', () => {
    expectTypeOf<SchemaMembers<typeof userSchema>>().toEqualTypeOf<keyof UserView>();
    expectTypeOf<SchemaMembers<typeof sessionSchema>>().toEqualTypeOf<keyof SessionView>();
    expectTypeOf<SchemaMembers<typeof signingKeySchema>>().toEqualTypeOf<keyof SigningKeyView>();
    expectTypeOf<SchemaMembers<typeof clientSchema>>().toEqualTypeOf<keyof ClientView>();
    expectTypeOf<SchemaMembers<typeof factorSchema>>().toEqualTypeOf<keyof MfaFactorView>();
    expectTypeOf<SchemaMembers<typeof invitationSchema>>().toEqualTypeOf<keyof InvitationView>();
    expectTypeOf<SchemaMembers<typeof sessionsRevokedSchema>>().toEqualTypeOf<keyof SessionsRevokedView>();
    expectTypeOf<SchemaMembers<typeof metadataSchema>>().toEqualTypeOf<keyof AuthorizationServerMetadata>();
    expectTypeOf<SchemaMembers<typeof tokenResponseSchema>>().toEqualTypeOf<keyof SessionTokenResponse>();
    expectTypeOf<SchemaMembers<typeof errorSchema>>().toEqualTypeOf<keyof ErrorBody>();
    expectTypeOf<SchemaRequired<typeof errorSchema>>().toEqualTypeOf<keyof ErrorBody>();
    expectTypeOf<SchemaRequired<typeof tokenResponseSchema>>().toEqualTypeOf<'token_type' | 'expires_in'>();
  });
});

describe('the SDKs read the contract (types)', () => {
  it('@jot/verify: claims, feed entries, error bodies and discovery', () => {
    expectTypeOf<IssuerMetadata>().toMatchTypeOf<Partial<AuthorizationServerMetadata>>();
    expectTypeOf<VerifiedClaims>().toMatchTypeOf<AccessTokenClaims>();
    expectTypeOf<ReturnType<typeof parseFeedEntry>>().toEqualTypeOf<FeedEntry | undefined>();
    expectTypeOf<ErrorResponse['body']>().toEqualTypeOf<ErrorBody>();
    expectTypeOf<FeedEventData[typeof FEED_EVENTS.revocation]>().toEqualTypeOf<FeedEntry>();
  });

  it('@jot/client: whoami and token responses', () => {
    expectTypeOf<Awaited<ReturnType<JotClient['whoami']>>>().toEqualTypeOf<WhoAmIResponse>();
    expectTypeOf<WhoAmIResponse['user']>().toEqualTypeOf<UserView>();
    expectTypeOf<Parameters<typeof snapshotFrom>[0]>().toEqualTypeOf<unknown>();
  });

  it('@jot/client sends the second-factor bodies the server reads and documents', () => {
    expectTypeOf<ReturnType<typeof proofFields>>().toEqualTypeOf<MfaProofFields>();
    expectTypeOf<ReturnType<typeof mfaSignInBody>>().toEqualTypeOf<MfaSignInBody>();
    expectTypeOf<Parameters<typeof proofOf>[0]>().toEqualTypeOf<MfaProofFields>();
    expectTypeOf<keyof typeof proofProperties>().toEqualTypeOf<keyof MfaProofFields>();
    expectTypeOf<keyof MfaSignInBody>().toEqualTypeOf<keyof MfaProofFields | 'mfa_token' | 'device_token'>();
  });

  it('@jot/service: OAuth token responses', () => {
    expectTypeOf<Awaited<ReturnType<typeof requestToken>>>().toEqualTypeOf<OAuthTokenResponse>();
  });
});

/**
 * The members of each shape, as values the test can compare with a real response. `satisfies Record<keyof T, …>`
 * makes each list exhaustive: a member added to or removed from the type without the list fails typecheck.
 * `false` marks a member the server may leave out.
 */
const USER = {
  id: true,
  email: true,
  name: true,
  roles: true,
  status: true,
  email_verified: true,
  created_at: true,
} satisfies Record<keyof UserView, boolean>;
const SESSION = {
  id: true,
  current: true,
  created_at: true,
  last_used_at: true,
  expires_at: true,
  auth_time: true,
  ip: true,
  user_agent: true,
} satisfies Record<keyof SessionView, boolean>;
const KEY = {
  kid: true,
  alg: true,
  state: true,
  created_at: true,
  activates_at: true,
  retired_at: true,
  expires_at: true,
} satisfies Record<keyof SigningKeyView, boolean>;
const EVENT = {
  id: true,
  type: true,
  user_id: true,
  user_email: true,
  session_id: true,
  ip: true,
  detail: true,
  created_at: true,
} satisfies Record<keyof SecurityEventView, boolean>;
const CLIENT = {
  client_id: true,
  name: true,
  token_endpoint_auth_method: true,
  jwks: false,
  jwks_uri: false,
  grant_types: true,
  scopes: true,
  audiences: true,
  access_token_ttl: true,
  first_party: true,
  dpop: true,
  dpop_bound_access_tokens: true,
  introspection: true,
  created_at: true,
  updated_at: true,
  secret_rotated_at: true,
} satisfies Record<keyof ClientView, boolean>;
const INVITATION = {
  id: true,
  email: true,
  roles: true,
  created_at: true,
  expires_at: true,
} satisfies Record<keyof InvitationView, boolean>;
const INVITATION_LIST = { invitations: true } satisfies Record<keyof InvitationListView, boolean>;
const SESSIONS_REVOKED = { revoked: true } satisfies Record<keyof SessionsRevokedView, boolean>;
const CLIENT_WITH_SECRET = { client: true, client_secret: false } satisfies Record<
  keyof ClientWithSecret,
  boolean
>;
const MFA_STATUS = {
  enabled: true,
  required: true,
  factors: true,
  recovery_codes_left: true,
  needs_verified_email: true,
} satisfies Record<keyof MfaStatusView, boolean>;
const SESSION_TOKENS = {
  token_type: true,
  expires_in: true,
  access_token: false,
  refresh_token: false,
  csrf_token: false,
  device_token: false,
} satisfies Record<keyof SessionTokenResponse, boolean>;
const WHOAMI = { claims: true, user: true, csrf_token: false } satisfies Record<
  keyof WhoAmIResponse,
  boolean
>;
const ERROR = { error: true, error_description: true, code: true } satisfies Record<keyof ErrorBody, boolean>;
const FEED_PAGE = { entries: true, cursor: true, has_more: true, snapshot: true } satisfies Record<
  keyof FeedPage,
  boolean
>;
const FEED_ENTRY = { id: true, kind: true, subject: true, data: true, expires_at: true } satisfies Record<
  keyof FeedEntry,
  boolean
>;
const OAUTH_TOKENS = {
  access_token: true,
  token_type: true,
  expires_in: true,
  scope: false,
  refresh_token: false,
  issued_token_type: false,
} satisfies Record<keyof OAuthTokenResponse, boolean>;

const METADATA = {
  issuer: true,
  jwks_uri: true,
  token_endpoint: true,
  token_endpoint_auth_methods_supported: true,
  token_endpoint_auth_signing_alg_values_supported: true,
  grant_types_supported: true,
  response_types_supported: true,
  scopes_supported: true,
  revocation_endpoint: true,
  revocation_endpoint_auth_methods_supported: true,
  revocation_endpoint_auth_signing_alg_values_supported: true,
  introspection_endpoint: true,
  introspection_endpoint_auth_methods_supported: true,
  introspection_endpoint_auth_signing_alg_values_supported: true,
  dpop_signing_alg_values_supported: true,
  access_token_signing_alg_values_supported: true,
  login_endpoint: true,
  revocation_feed_endpoint: true,
  revocation_stream_endpoint: true,
} satisfies Record<keyof AuthorizationServerMetadata, boolean>;

/** Checks that `value` has every required member of `shape` and nothing the shape does not declare. */
function expectShape(value: unknown, shape: Record<string, boolean>, what: string): void {
  expect(typeof value, what).toBe('object');
  const keys = Object.keys(value as object);
  const required = Object.entries(shape).flatMap(([key, always]) => (always ? [key] : []));
  expect(
    keys.filter((key) => !(key in shape)),
    `${what}: members the contract does not declare`,
  ).toEqual([]);
  expect(
    required.filter((key) => !keys.includes(key)),
    `${what}: members the contract requires`,
  ).toEqual([]);
}

function expectErrorBody(value: unknown, what: string): void {
  expectShape(value, ERROR, what);
  expect(isJotErrorCode((value as ErrorBody).code), `${what}: a registered code`).toBe(true);
}

const FEED_SECRET = 'contract-feed-secret-'.padEnd(40, 'x');
let server: TestServer;
let admin: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  server = await startServer({ revocationSecret: FEED_SECRET, trustProxy: true });
  admin = await signUp(server, 'contract-admin@example.com');
});

afterAll(async () => {
  await server?.close();
});

describe('the server answers exactly the contract (run time)', () => {
  it('signs in with a contract token response and describes itself with whoami', async () => {
    const login = await server.request('POST', '/api/login', {
      body: { email: 'contract-admin@example.com', password: 'correct horse battery' },
    });
    expectShape(login.body, SESSION_TOKENS, 'POST /api/login');
    const who = await server.request('GET', ENDPOINTS.whoami, { token: admin.access_token });
    expect(who.status).toBe(200);
    expectShape(who.body, WHOAMI, 'GET /api/whoami');
    expectShape(who.body.user, USER, 'whoami user');
    expect(who.body.claims).toMatchObject({ sub: admin.userId, sid: expect.any(String), roles: ['admin'] });
  });

  it('sets only the cookies the contract names, in the spelling of the connection', async () => {
    const names = (secure: boolean): string[] =>
      Object.values(COOKIES).map((cookie) => (secure ? cookie.secure : cookie.plain));
    const set = (res: { headers: Headers }): string[] =>
      res.headers.getSetCookie().map((line) => line.slice(0, line.indexOf('=')));
    const login = await server.request('POST', ENDPOINTS.login, {
      body: { email: 'contract-admin@example.com', password: 'correct horse battery', delivery: 'cookie' },
    });
    expect(login.status).toBe(200);
    // The access, refresh and device cookies of a cookie-delivery sign-in: each one the contract names.
    expect(set(login).sort()).toEqual(names(false).sort());
    const https = await server.request('POST', ENDPOINTS.login, {
      body: { email: 'contract-admin@example.com', password: 'correct horse battery', delivery: 'cookie' },
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(set(https).sort()).toEqual(names(true).sort());
  });

  it('lists sessions, keys, events and second factors in the contract views', async () => {
    const sessions = await server.request('GET', '/api/sessions', { token: admin.access_token });
    expect(sessions.body.sessions.length).toBeGreaterThan(0);
    for (const session of sessions.body.sessions) expectShape(session, SESSION, 'GET /api/sessions');
    const keys = await server.request('GET', '/api/admin/keys', { token: admin.access_token });
    expect(keys.body.keys.length).toBeGreaterThan(0);
    for (const key of keys.body.keys) expectShape(key, KEY, 'GET /api/admin/keys');
    const events = await server.request('GET', '/api/admin/events', { token: admin.access_token });
    expect(events.body.events.length).toBeGreaterThan(0);
    for (const event of events.body.events) expectShape(event, EVENT, 'GET /api/admin/events');
    const mfa = await server.request('GET', '/api/mfa', { token: admin.access_token });
    expectShape(mfa.body, MFA_STATUS, 'GET /api/mfa');
    const users = await server.request('GET', '/api/admin/users', { token: admin.access_token });
    for (const user of users.body.users) expectShape(user, USER, 'GET /api/admin/users');
  });

  it('creates and lists invitations in the contract view', async () => {
    const created = await server.request('POST', '/api/admin/invitations', {
      token: admin.access_token,
      body: { email: 'contract-invitee@example.com', roles: ['editor'] },
    });
    expect(created.status).toBe(201);
    expectShape(created.body, INVITATION, 'POST /api/admin/invitations');
    const list = await server.request('GET', '/api/admin/invitations', { token: admin.access_token });
    expect(list.status).toBe(200);
    expectShape(list.body, INVITATION_LIST, 'GET /api/admin/invitations');
    expect(list.body.invitations.map((i: InvitationView) => i.id)).toContain(created.body.id);
    for (const invitation of list.body.invitations) {
      expectShape(invitation, INVITATION, 'GET /api/admin/invitations');
    }
  });

  it("ends a user's sessions with the contract answer", async () => {
    const other = await signUp(server, 'contract-signed-out@example.com');
    const res = await server.request('DELETE', `/api/admin/users/${other.userId}/sessions`, {
      token: admin.access_token,
    });
    expect(res.status).toBe(200);
    expectShape(res.body, SESSIONS_REVOKED, 'DELETE /api/admin/users/:id/sessions');
  });

  it('registers a client and issues it an RFC 6749 token response', async () => {
    const created = await server.request('POST', '/api/admin/clients', {
      token: admin.access_token,
      body: {
        client_id: 'contract-svc',
        name: 'Contract service',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        audiences: ['https://api.example.com'],
      },
    });
    expect(created.status).toBe(201);
    expectShape(created.body, CLIENT_WITH_SECRET, 'POST /api/admin/clients');
    expectShape(created.body.client, CLIENT, 'POST /api/admin/clients client');
    const basic = Buffer.from(`contract-svc:${created.body.client_secret as string}`).toString('base64');
    const res = await fetch(server.url + ENDPOINTS.token, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    expectShape(await res.json(), OAUTH_TOKENS, 'POST /oauth/token');
  });

  it('publishes revocations as contract feed pages and entries', async () => {
    const other = await signUp(server, 'contract-feed@example.com');
    expect((await server.request('POST', ENDPOINTS.logout, { token: other.access_token })).status).toBe(204);
    const page = await server.request('GET', ENDPOINTS.revocationFeed, { token: FEED_SECRET });
    expectShape(page.body, FEED_PAGE, 'GET /api/revocations');
    expect(page.body.entries.length).toBeGreaterThan(0);
    for (const entry of page.body.entries) expectShape(entry, FEED_ENTRY, 'feed entry');
  });

  it('refuses with the contract error body and a registered code', async () => {
    const cases: [string, string, Record<string, unknown>][] = [
      ['GET', ENDPOINTS.whoami, {}],
      ['GET', ENDPOINTS.whoami, { token: 'not-a-token' }],
      ['POST', ENDPOINTS.login, { body: { email: 'nobody@example.com', password: 'wrong password!' } }],
      ['POST', ENDPOINTS.login, { raw: '{', contentType: 'application/json' }],
      ['GET', ENDPOINTS.revocationFeed, {}],
      ['GET', '/api/no-such-route', {}],
    ];
    for (const [method, path, options] of cases) {
      const res = await server.request(method, path, options);
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expectErrorBody(res.body, `${method} ${path} (${res.status})`);
    }
  });

  it('publishes RFC 8414 metadata with the contract members, its endpoints at the contract paths', async () => {
    const res = await server.request('GET', WELL_KNOWN.authorizationServer);
    expectShape(res.body, METADATA, WELL_KNOWN.authorizationServer);
    const metadata = res.body as AuthorizationServerMetadata;
    expect(metadata.jwks_uri).toBe(server.config.issuer + WELL_KNOWN.jwks);
    expect(metadata.token_endpoint).toBe(server.config.issuer + ENDPOINTS.token);
    expect(metadata.revocation_feed_endpoint).toBe(server.config.issuer + ENDPOINTS.revocationFeed);
  });

  it('serves every endpoint and well-known path the SDKs call', () => {
    const routes = new Set(server.app.routeTable.map((route) => route.url));
    const paths = [...Object.values(ENDPOINTS), WELL_KNOWN.jwks, WELL_KNOWN.authorizationServer];
    expect(paths.filter((path) => !routes.has(path))).toEqual([]);
  });
});
