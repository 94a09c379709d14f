/**
 * The account routes' request bodies hold both ways, as the session API's do (request-bodies.test.ts). At the type
 * level (`npm run typecheck` checks this file): the server's JSON schemas for admin account creation, role changes,
 * invitations, password reset, the mail links (email verification's optional password too) and the profile list
 * exactly the members of the contract's bodies and require exactly its required ones. At run time, against a real server with a real SMTP server for the links:
 * each full contract body is accepted, and a body with a member the contract does not declare, or without one it
 * requires, is refused with 400 `ERR_VALIDATION`.
 */
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';

import type {
  AdminUserCreateBody,
  EmailChangeBody,
  EmailVerifyBody,
  InvitationAcceptBody,
  InvitationCreateBody,
  EmailChangeConfirmBody,
  MailLinkRequestBody,
  PasswordResetBody,
  ProfileBody,
  RolesChangeBody,
} from '../src/index.js';

import type {
  emailChangeBodySchema,
  emailVerifyBodySchema,
  invitationAcceptBodySchema,
  emailChangeConfirmBodySchema,
  mailLinkRequestBodySchema,
  passwordResetBodySchema,
  profileBodySchema,
} from '../../server/src/http/account-schemas.js';
import type {
  adminUserBodySchema,
  invitationCreateBodySchema,
  rolesBodySchema,
} from '../../server/src/plugins/admin-users/schemas.js';
import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { linkIn, startSmtp, tokenIn, type TestSmtp } from '../../server/test/support/smtp.js';
import type { BodyKeys, SchemaKeys } from './support/schema-types.js';

describe("the server's account body schemas accept exactly the contract bodies (types)", () => {
  it('lists every member of each body and requires exactly its required ones', () => {
    expectTypeOf<SchemaKeys<typeof adminUserBodySchema>>().toEqualTypeOf<BodyKeys<AdminUserCreateBody>>();
    expectTypeOf<SchemaKeys<typeof rolesBodySchema>>().toEqualTypeOf<BodyKeys<RolesChangeBody>>();
    expectTypeOf<SchemaKeys<typeof invitationCreateBodySchema>>().toEqualTypeOf<
      BodyKeys<InvitationCreateBody>
    >();
    expectTypeOf<SchemaKeys<typeof invitationAcceptBodySchema>>().toEqualTypeOf<
      BodyKeys<InvitationAcceptBody>
    >();
    expectTypeOf<SchemaKeys<typeof mailLinkRequestBodySchema>>().toEqualTypeOf<
      BodyKeys<MailLinkRequestBody>
    >();
    expectTypeOf<SchemaKeys<typeof passwordResetBodySchema>>().toEqualTypeOf<BodyKeys<PasswordResetBody>>();
    expectTypeOf<SchemaKeys<typeof emailChangeConfirmBodySchema>>().toEqualTypeOf<
      BodyKeys<EmailChangeConfirmBody>
    >();
    expectTypeOf<SchemaKeys<typeof emailVerifyBodySchema>>().toEqualTypeOf<BodyKeys<EmailVerifyBody>>();
    expectTypeOf<SchemaKeys<typeof profileBodySchema>>().toEqualTypeOf<BodyKeys<ProfileBody>>();
    expectTypeOf<SchemaKeys<typeof emailChangeBodySchema>>().toEqualTypeOf<BodyKeys<EmailChangeBody>>();
    // `null` clears the display name, so the schema must take it.
    expectTypeOf<(typeof profileBodySchema)['properties']['name']['type']>().toEqualTypeOf<
      readonly ['string', 'null']
    >();
  });
});

const PASSWORD = 'correct horse battery';

let smtp: TestSmtp;
let server: TestServer;
let admin: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  smtp = await startSmtp();
  server = await startServer({ smtpUrl: smtp.url, publicUrl: 'http://ui.test' });
  admin = await signUp(server, 'bodies-admin@example.com');
});

afterAll(async () => {
  await server?.close();
  await smtp?.stop();
});

/** The token of the newest link mailed to `address` whose subject matches. */
async function mailedToken(address: string, subject: RegExp): Promise<string> {
  return tokenIn(linkIn(await smtp.waitFor((m) => m.to.includes(address) && subject.test(m.subject))));
}

/** Sends `body` to `path`; a 400 `ERR_VALIDATION` is what a body the schema refuses gets. */
function send(method: string, path: string, body: Record<string, unknown>, token?: string) {
  return server.request(method, path, { body, token });
}

/** Refuses `body` with an unknown member, and `body` without each of its `required` members. */
async function expectOnlyContract(
  method: string,
  path: string,
  body: Record<string, unknown>,
  required: readonly string[],
  token?: string,
): Promise<void> {
  const variants = [
    { ...body, unexpected: true },
    ...required.map((key) => Object.fromEntries(Object.entries(body).filter(([k]) => k !== key))),
  ];
  for (const variant of variants) {
    const res = await send(method, path, variant, token);
    expect(res.status, `${method} ${path} ${JSON.stringify(Object.keys(variant))}`).toBe(400);
    expect(res.body.code).toBe('ERR_VALIDATION');
  }
}

describe('the server accepts the admin and invitation bodies and nothing else (run time)', () => {
  it('an admin creates an account and changes its roles from the contract bodies', async () => {
    const create = {
      email: 'bodies-created@example.com',
      password: PASSWORD,
      name: 'Created',
      roles: ['editor'],
      email_verified: true,
    } satisfies Required<AdminUserCreateBody>;
    await expectOnlyContract('POST', '/api/admin/users', create, ['email', 'password'], admin.access_token);
    const created = await send('POST', '/api/admin/users', create, admin.access_token);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      email: create.email,
      name: 'Created',
      roles: ['editor'],
      email_verified: true,
    });
    const roles = { roles: ['viewer'] } satisfies Required<RolesChangeBody>;
    const path = `/api/admin/users/${created.body.id as string}/roles`;
    await expectOnlyContract('PUT', path, roles, ['roles'], admin.access_token);
    const changed = await send('PUT', path, roles, admin.access_token);
    expect(changed.status).toBe(200);
    expect(changed.body.roles).toEqual(['viewer']);
  });

  it('invites an address and accepts the invitation from the contract bodies', async () => {
    const invite = {
      email: 'bodies-invitee@example.com',
      roles: ['editor'],
    } satisfies Required<InvitationCreateBody>;
    await expectOnlyContract('POST', '/api/admin/invitations', invite, ['email'], admin.access_token);
    expect((await send('POST', '/api/admin/invitations', invite, admin.access_token)).status).toBe(201);
    const accept = {
      token: await mailedToken(invite.email, /invited/i),
      password: PASSWORD,
      name: 'Invitee',
    } satisfies Required<InvitationAcceptBody>;
    await expectOnlyContract('POST', '/api/invitations/accept', accept, ['token', 'password']);
    const accepted = await send('POST', '/api/invitations/accept', accept);
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ email: invite.email, name: 'Invitee', roles: ['editor'] });
  });
});

describe('the server accepts the self-service bodies and nothing else (run time)', () => {
  it('asks for a reset link and resets the password from the contract bodies', async () => {
    const user = 'bodies-reset@example.com';
    await signUp(server, user);
    const forgot = { email: user } satisfies Required<MailLinkRequestBody>;
    await expectOnlyContract('POST', '/api/password/forgot', forgot, ['email']);
    expect((await send('POST', '/api/password/forgot', forgot)).status).toBe(202);
    const reset = {
      token: await mailedToken(user, /reset your password/i),
      new_password: 'another horse battery staple',
    } satisfies Required<PasswordResetBody>;
    await expectOnlyContract('POST', '/api/password/reset', reset, ['token', 'new_password']);
    const done = await send('POST', '/api/password/reset', reset);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'reset', email: user });
  });

  it('verifies a new address from the contract body, its optional password included', async () => {
    const user = 'bodies-verify@example.com';
    await signUp(server, user, PASSWORD);
    const verify = {
      token: await mailedToken(user, /confirm your email/i),
      password: PASSWORD,
    } satisfies Required<EmailVerifyBody>;
    await expectOnlyContract('POST', '/api/email/verify', verify, ['token']);
    const done = await send('POST', '/api/email/verify', verify);
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ email: user, email_verified: true });
  });

  it('changes the display name and asks for a new email from the contract bodies', async () => {
    const user = await signUp(server, 'bodies-profile@example.com');
    const named = { name: 'Profiled' } satisfies Required<ProfileBody>;
    await expectOnlyContract('PATCH', '/api/account', named, ['name'], user.access_token);
    expect((await send('PATCH', '/api/account', named, user.access_token)).body.name).toBe('Profiled');
    const cleared = await send(
      'PATCH',
      '/api/account',
      { name: null } satisfies ProfileBody,
      user.access_token,
    );
    expect(cleared.body.name).toBeNull();
    const change = { new_email: 'bodies-profile-new@example.com' } satisfies Required<EmailChangeBody>;
    await expectOnlyContract('POST', '/api/email/change', change, ['new_email'], user.access_token);
    expect((await send('POST', '/api/email/change', change, user.access_token)).status).toBe(202);
    const confirm = {
      token: await mailedToken(change.new_email, /confirm/i),
      password: PASSWORD,
    } satisfies Required<EmailChangeConfirmBody>;
    await expectOnlyContract('POST', '/api/email/change/confirm', confirm, ['token']);
    const confirmed = await send('POST', '/api/email/change/confirm', confirm);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.email).toBe(change.new_email);
  });
});
