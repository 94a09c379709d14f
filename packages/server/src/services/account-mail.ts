/**
 * The messages of the account lifecycle: each issues its one-time token and queues the message carrying the link.
 * The idempotency key is the token's `jti` (or the invitation id), so one request never produces two messages.
 */
import type { Config } from '../config/index.js';
import type { Invitation, User } from '../store/index.js';
import { humanDuration, type Mailer } from './mail/mailer.js';
import type { TemplateName } from './mail/templates.js';
import type { OneTimeKind, OneTimeTokens } from './one-time-tokens.js';
import { randomBase64url } from './random-pool.js';

/** Sends the lifecycle messages. */
export interface AccountMail {
  /**
   * A link that verifies the user's current address; `verify-new-account` (a self-registered account's first link)
   * also says how to take the account over when the recipient did not create it.
   */
  sendVerification(user: User, template?: 'verify-email' | 'verify-new-account'): Promise<void>;
  /** A link that sets a new password, bound to the current one. */
  sendPasswordReset(user: User): Promise<void>;
  /** Tells the user their password was reset (with a link to reset it again). */
  /**
   * Tells the account its password was reset; `factorsRemoved` when the reset of an unverified account removed the
   * second factors someone else may have set up (`password-reset-factors-removed`).
   */
  sendPasswordResetDone(user: User, options?: { factorsRemoved?: boolean }): Promise<void>;
  /** The invitation link. */
  sendInvitation(invitation: Invitation): Promise<void>;
  /** A confirmation link to `newEmail`, and a notice to the current address. */
  sendEmailChange(user: User, newEmail: string): Promise<void>;
  /**
   * Tells `newEmail`, which another account has, that this user asked to move to it (no link that changes anything):
   * sent instead of the confirmation link, so the answer to the request does not say the address is taken.
   */
  sendEmailChangeTaken(user: User, newEmail: string): Promise<void>;
  /** Tells the old address that the email was changed. */
  sendEmailChanged(oldEmail: string, user: User): Promise<void>;
}

/** What the messages are made with. */
interface AccountMailDeps {
  config: Config;
  mailer: Mailer;
  tokens: OneTimeTokens;
}

/** A link mailed to the user's current address: its token's kind and lifetime, the template, the page it opens. */
interface UserLink {
  kind: OneTimeKind;
  ttlMs: number;
  claims?: Record<string, string>;
  template: TemplateName;
  path: string;
  /** More values for the template. */
  values?: Record<string, string>;
}

/** Issues the link's one-time token for the user and queues the message carrying it (keyed by the token's `jti`). */
async function sendUserLink({ mailer, tokens }: AccountMailDeps, user: User, link: UserLink): Promise<void> {
  const { token, jti } = await tokens.issue(link.kind, {
    subject: user.id,
    email: user.email,
    ttlMs: link.ttlMs,
    ...(link.claims === undefined ? {} : { claims: link.claims }),
  });
  await mailer.send({
    to: user.email,
    userId: user.id,
    template: link.template,
    values: { ...link.values, link: mailer.link(link.path, { token }), expiresIn: humanDuration(link.ttlMs) },
    idempotencyKey: `${link.template}:${jti}`,
  });
}

function sendVerification(
  deps: AccountMailDeps,
  user: User,
  template: 'verify-email' | 'verify-new-account',
): Promise<void> {
  return sendUserLink(deps, user, {
    kind: 'email_verification',
    ttlMs: deps.config.oneTimeTokenTtlMs.emailVerification,
    template,
    path: '/verify-email',
    ...(template === 'verify-new-account'
      ? { values: { forgotLink: deps.mailer.link('/forgot-password') } }
      : {}),
  });
}

function sendPasswordReset(deps: AccountMailDeps, user: User): Promise<void> {
  // Bound to the current password hash (checked when the link is used): a changed password voids the link.
  return sendUserLink(deps, user, {
    kind: 'password_reset',
    ttlMs: deps.config.oneTimeTokenTtlMs.passwordReset,
    claims: { pwd: deps.tokens.credentialMac(user.passwordHash) },
    template: 'password-reset',
    path: '/reset-password',
  });
}

async function sendInvitation({ mailer, tokens }: AccountMailDeps, invitation: Invitation): Promise<void> {
  const { token } = await tokens.issue('invitation', {
    subject: invitation.id,
    jti: invitation.id,
    email: invitation.email,
    ttlMs: invitation.expiresAt - invitation.createdAt,
  });
  await mailer.send({
    to: invitation.email,
    template: 'invitation',
    values: {
      link: mailer.link('/accept-invitation', { token }),
      expiresIn: humanDuration(invitation.expiresAt - invitation.createdAt),
      roles: invitation.roles.join(', '),
    },
    idempotencyKey: `invitation:${invitation.id}`,
  });
}

async function sendEmailChange(
  { config, mailer, tokens }: AccountMailDeps,
  user: User,
  newEmail: string,
): Promise<void> {
  const ttlMs = config.oneTimeTokenTtlMs.emailChange;
  const { token, jti } = await tokens.issue('email_change', {
    subject: user.id,
    email: user.email,
    ttlMs,
    // The credential generation it was asked in: changing the password, a reset, signing out everywhere or a
    // disable bumps it, which kills the link — the remedy the notice to the current address recommends.
    claims: { new_email: newEmail, cg: String(user.credentialGeneration) },
  });
  const values = { newEmail, expiresIn: humanDuration(ttlMs) };
  await mailer.send({
    to: newEmail,
    userId: user.id,
    template: 'email-change-confirm',
    values: { ...values, email: user.email, link: mailer.link('/confirm-email', { token }) },
    idempotencyKey: `email-change-confirm:${jti}`,
  });
  await mailer.send({
    to: user.email,
    userId: user.id,
    template: 'email-change-requested',
    values: { ...values, link: mailer.link('/account') },
    idempotencyKey: `email-change-requested:${jti}`,
  });
}

async function sendEmailChangeTaken(
  { mailer }: AccountMailDeps,
  user: User,
  newEmail: string,
): Promise<void> {
  await mailer.send({
    to: newEmail,
    userId: user.id,
    template: 'email-change-taken',
    values: { newEmail, link: mailer.link('/forgot-password') },
    idempotencyKey: `email-change-taken:${randomBase64url(16)}`,
  });
}

/** Builds the lifecycle mail over the mailer and the one-time tokens. */
export function createAccountMail(deps: AccountMailDeps): AccountMail {
  const { mailer } = deps;
  return {
    sendVerification: (user, template = 'verify-email') => sendVerification(deps, user, template),
    sendPasswordReset: (user) => sendPasswordReset(deps, user),
    async sendPasswordResetDone(user, options = {}) {
      await mailer.send({
        to: user.email,
        userId: user.id,
        template: options.factorsRemoved === true ? 'password-reset-factors-removed' : 'password-reset-done',
        values: { link: mailer.link('/forgot-password'), accountLink: mailer.link('/account') },
        idempotencyKey: `password-reset-done:${user.id}:${user.updatedAt}`,
      });
    },
    sendInvitation: (invitation) => sendInvitation(deps, invitation),
    sendEmailChange: (user, newEmail) => sendEmailChange(deps, user, newEmail),
    sendEmailChangeTaken: (user, newEmail) => sendEmailChangeTaken(deps, user, newEmail),
    async sendEmailChanged(oldEmail, user) {
      await mailer.send({
        to: oldEmail,
        userId: user.id,
        template: 'email-changed',
        values: { email: oldEmail, newEmail: user.email },
        idempotencyKey: `email-changed:${user.id}:${user.updatedAt}`,
      });
    },
  };
}
