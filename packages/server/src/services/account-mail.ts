/**
 * The messages of the account lifecycle: each issues its one-time token and queues the message carrying the link.
 * The idempotency key is the token's `jti` (or the invitation id), so one request never produces two messages.
 */
import type { Config } from '../config/index.js';
import type { Invitation, User } from '../store/index.js';
import { humanDuration, type Mailer } from './mail/mailer.js';
import type { OneTimeTokens } from './one-time-tokens.js';

/** Sends the lifecycle messages. */
export interface AccountMail {
  /** A link that verifies the user's current address. */
  sendVerification(user: User): Promise<void>;
  /** A link that sets a new password, bound to the current one. */
  sendPasswordReset(user: User): Promise<void>;
  /** Tells the user their password was reset (with a link to reset it again). */
  sendPasswordResetDone(user: User): Promise<void>;
  /** The invitation link. */
  sendInvitation(invitation: Invitation): Promise<void>;
  /** A confirmation link to `newEmail`, and a notice to the current address. */
  sendEmailChange(user: User, newEmail: string): Promise<void>;
  /** Tells the old address that the email was changed. */
  sendEmailChanged(oldEmail: string, user: User): Promise<void>;
}

/** What the messages are made with. */
interface AccountMailDeps {
  config: Config;
  mailer: Mailer;
  tokens: OneTimeTokens;
}

async function sendVerification({ config, mailer, tokens }: AccountMailDeps, user: User): Promise<void> {
  const ttlMs = config.oneTimeTokenTtlMs.emailVerification;
  const { token, jti } = await tokens.issue('email_verification', {
    subject: user.id,
    email: user.email,
    ttlMs,
  });
  await mailer.send({
    to: user.email,
    template: 'verify-email',
    values: { link: mailer.link('/verify-email', { token }), expiresIn: humanDuration(ttlMs) },
    idempotencyKey: `verify-email:${jti}`,
  });
}

async function sendPasswordReset({ config, mailer, tokens }: AccountMailDeps, user: User): Promise<void> {
  const ttlMs = config.oneTimeTokenTtlMs.passwordReset;
  const { token, jti } = await tokens.issue('password_reset', {
    subject: user.id,
    email: user.email,
    ttlMs,
    claims: { pwd: tokens.credentialMac(user.passwordHash) },
  });
  await mailer.send({
    to: user.email,
    template: 'password-reset',
    values: { link: mailer.link('/reset-password', { token }), expiresIn: humanDuration(ttlMs) },
    idempotencyKey: `password-reset:${jti}`,
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
    claims: { new_email: newEmail },
  });
  const values = { newEmail, expiresIn: humanDuration(ttlMs) };
  await mailer.send({
    to: newEmail,
    template: 'email-change-confirm',
    values: { ...values, email: user.email, link: mailer.link('/confirm-email', { token }) },
    idempotencyKey: `email-change-confirm:${jti}`,
  });
  await mailer.send({
    to: user.email,
    template: 'email-change-requested',
    values: { ...values, link: mailer.link('/account') },
    idempotencyKey: `email-change-requested:${jti}`,
  });
}

/** Builds the lifecycle mail over the mailer and the one-time tokens. */
export function createAccountMail(deps: AccountMailDeps): AccountMail {
  const { mailer } = deps;
  return {
    sendVerification: (user) => sendVerification(deps, user),
    sendPasswordReset: (user) => sendPasswordReset(deps, user),
    async sendPasswordResetDone(user) {
      await mailer.send({
        to: user.email,
        template: 'password-reset-done',
        values: { link: mailer.link('/forgot-password') },
        idempotencyKey: `password-reset-done:${user.id}:${user.updatedAt}`,
      });
    },
    sendInvitation: (invitation) => sendInvitation(deps, invitation),
    sendEmailChange: (user, newEmail) => sendEmailChange(deps, user, newEmail),
    async sendEmailChanged(oldEmail, user) {
      await mailer.send({
        to: oldEmail,
        template: 'email-changed',
        values: { email: oldEmail, newEmail: user.email },
        idempotencyKey: `email-changed:${user.id}:${user.updatedAt}`,
      });
    },
  };
}
