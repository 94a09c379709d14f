/**
 * Request bodies of the account routes the web UI and the CLI send besides the session API (request-bodies.ts):
 * accounts an admin creates, invitations, the one-time links of password reset and email, and profile changes.
 * Type aliases, so a body is a `Record<string, unknown>` the client's JSON sender accepts. The server's JSON schemas
 * for these routes are pinned to them (packages/contract/test/account-bodies.test.ts).
 */
import type { RegisterBody } from './request-bodies.js';

/**
 * `POST /api/admin/users`: an account an admin creates (whatever `JOT_REGISTRATION` says), with its roles. Roles,
 * here and below, are at most 32 distinct names of `[A-Za-z0-9_.:-]`, each at most 64 characters.
 */
export type AdminUserCreateBody = RegisterBody & {
  roles?: string[];
  /**
   * The admin vouches for the address: the account starts verified and no verification link is sent. Otherwise,
   * with `JOT_EMAIL_VERIFICATION` on, the address gets its link. Default `false`.
   */
  email_verified?: boolean;
};

/** `PUT /api/admin/users/:id/roles`: the user's new roles (they replace the old ones). */
export type RolesChangeBody = {
  roles: string[];
};

/** `POST /api/admin/invitations`: the address to invite and the roles its account will have. */
export type InvitationCreateBody = {
  email: string;
  roles?: string[];
};

/** `POST /api/invitations/accept`: the invitation link's token, the password chosen, and a display name. */
export type InvitationAcceptBody = {
  token: string;
  password: string;
  /** Display name, at most 200 characters. */
  name?: string;
};

/** `POST /api/password/forgot` and `POST /api/email/verification`: the address to send a link to. */
export type MailLinkRequestBody = {
  email: string;
};

/** `POST /api/password/reset`: the reset link's token and the new password (the password policy applies). */
export type PasswordResetBody = {
  token: string;
  new_password: string;
};

/** A mail link's token alone. */
export type LinkTokenBody = {
  token: string;
};

/**
 * `POST /api/email/change/confirm`: the email-change link's token and the account's password (answered 400
 * `ERR_PASSWORD_REQUIRED` without it, unless the request carries an access token of that account): anyone signed in
 * may ask to move their account to any address, so the new address's owner following the link must not give a
 * stranger's account that address.
 */
export type EmailChangeConfirmBody = {
  token: string;
  /** The account's password, at most 1024 characters. */
  password?: string;
};

/**
 * `POST /api/email/verify`: the verification link's token and, for the first verification of an address never
 * verified, the password the account was registered with (answered 400 `ERR_PASSWORD_REQUIRED` without it, unless
 * the request carries an access token of that account): whoever registered an address may not own it, so the
 * mailbox's owner following the link must not make a stranger's account verified.
 */
export type EmailVerifyBody = {
  token: string;
  /** The account's password, at most 1024 characters. */
  password?: string;
};

/** `PATCH /api/account`: the display name (at most 200 characters); blank or `null` clears it. */
export type ProfileBody = {
  name: string | null;
};

/** `POST /api/email/change`: the new address; a link sent there confirms it. */
export type EmailChangeBody = {
  new_email: string;
};
