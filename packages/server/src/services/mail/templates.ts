/**
 * Message templates: a subject, a plain-text body and an HTML body per message, with `{{name}}` placeholders. The
 * built-in set lives here; an operator's folder (`JOT_MAIL_TEMPLATES_DIR`) may replace any of them with
 * `<template>.txt` (first line `Subject: …`, a blank line, then the text body) and `<template>.html`. In HTML every
 * value is escaped; links are built by the server from `JOT_PUBLIC_URL`, never from request input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One message's template. */
export interface MailTemplate {
  subject: string;
  text: string;
  html: string;
}

/** A message ready to send. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const FOOTER_TEXT = '\n\n— {{appName}}\nIf you did not expect this message, you can ignore it.';
const FOOTER_HTML =
  '<p style="color:#666;font-size:13px">— {{appName}}<br>If you did not expect this message, you can ignore it.</p>';

function page(body: string): string {
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;max-width:560px">${body}${FOOTER_HTML}</body></html>`;
}

function button(label: string): string {
  return `<p><a href="{{link}}" style="display:inline-block;padding:10px 16px;background:#2b59c3;color:#fff;border-radius:6px;text-decoration:none">${label}</a></p><p style="font-size:13px">Or open this link: <a href="{{link}}">{{link}}</a></p>`;
}

/**
 * The built-in templates by name. Other features add theirs here (the name is what `Mailer.send` takes).
 * Values: `appName`, `email`, `link`, `expiresIn`, and per template `newEmail`, `roles`, `forgotLink`.
 */
export const BUILT_IN_TEMPLATES = {
  // The first link of an account an admin made: confirming a never-verified address takes the account's password
  // (services/registrant-proof.ts), which the admin gave its owner.
  'verify-email': {
    subject: 'Confirm your email address',
    text:
      'Confirm that {{email}} is your address by opening this link (valid for {{expiresIn}}):\n\n{{link}}\n\n' +
      "You will be asked for your account's password." +
      FOOTER_TEXT,
    html: page(
      `<p>Confirm that <b>{{email}}</b> is your address (the link is valid for {{expiresIn}}). You will be asked for your account's password.</p>${button('Confirm my email')}`,
    ),
  },
  // The first link of a self-registered account. Its recipient may not be who registered: someone can sign up with
  // another's address first (pre-account hijacking). Confirming takes the password chosen at registration (which a
  // squatter's victim does not know), and the mail says how to take the account over instead.
  'verify-new-account': {
    subject: 'Confirm your email address',
    text:
      'Confirm that {{email}} is your address by opening this link (valid for {{expiresIn}}):\n\n{{link}}\n\n' +
      'You will be asked for the password you registered with.\n\n' +
      "Didn't create this account? Someone may have used your address — use 'forgot password' to take it over instead:\n\n{{forgotLink}}" +
      FOOTER_TEXT,
    html: page(
      `<p>Confirm that <b>{{email}}</b> is your address (the link is valid for {{expiresIn}}). You will be asked for the password you registered with.</p>${button('Confirm my email')}` +
        `<p>Didn't create this account? Someone may have used your address — use <a href="{{forgotLink}}">'forgot password'</a> to take it over instead.</p>`,
    ),
  },
  'password-reset': {
    subject: 'Reset your password',
    text:
      'Someone (hopefully you) asked to reset the password of {{email}}. Choose a new one here (valid for {{expiresIn}}, once):\n\n{{link}}' +
      FOOTER_TEXT,
    html: page(
      `<p>Someone (hopefully you) asked to reset the password of <b>{{email}}</b>. The link works once, for {{expiresIn}}.</p>${button('Choose a new password')}`,
    ),
  },
  invitation: {
    subject: 'You are invited',
    text:
      'You are invited to create an account for {{email}}. Choose your password here (valid for {{expiresIn}}):\n\n{{link}}' +
      FOOTER_TEXT,
    html: page(
      `<p>You are invited to create an account for <b>{{email}}</b> (the link is valid for {{expiresIn}}).</p>${button('Accept the invitation')}`,
    ),
  },
  // The confirmation takes the account's password unless signed in (services/registrant-proof.ts): anyone signed in
  // may ask to move an account to any address, so the address's owner who did not ask must not confirm it.
  'email-change-confirm': {
    subject: 'Confirm your new email address',
    text:
      'Someone asked to change the email of an account from {{email}} to {{newEmail}}. Confirm it here (valid for {{expiresIn}}):\n\n{{link}}\n\n' +
      "You will be asked for the account's password, unless you are signed in to it.\n\n" +
      "Didn't ask for this? Ignore this message: without that password, your address is not added to anyone's account." +
      FOOTER_TEXT,
    html: page(
      `<p>Confirm <b>{{newEmail}}</b> as the new address of the account of {{email}} (the link is valid for {{expiresIn}}). You will be asked for the account's password, unless you are signed in to it.</p>${button('Confirm the new address')}` +
        "<p>Didn't ask for this? Ignore this message: without that password, your address is not added to anyone's account.</p>",
    ),
  },
  'email-change-requested': {
    subject: 'Your email address is about to change',
    text:
      'Someone signed in to your account asked to change its email from {{email}} to {{newEmail}}. If that was not you, change your password now and sign out everywhere:\n\n{{link}}' +
      FOOTER_TEXT,
    html: page(
      `<p>Someone signed in to your account asked to change its email from <b>{{email}}</b> to <b>{{newEmail}}</b>.</p><p>If that was not you, change your password now and sign out everywhere.</p>${button('Open my account')}`,
    ),
  },
  'email-change-taken': {
    subject: 'Someone tried to move an account to your address',
    text:
      'Someone signed in to another account asked to change its email to {{newEmail}}. You already have an account with this address, so nothing changed and no account was moved to it. If that was you, sign in with {{newEmail}} instead (choose a new password here if you forgot it):\n\n{{link}}' +
      FOOTER_TEXT,
    html: page(
      `<p>Someone signed in to another account asked to change its email to <b>{{newEmail}}</b>.</p><p>You already have an account with this address, so nothing changed and no account was moved to it. If that was you, sign in with this address instead, or choose a new password if you forgot it.</p>${button('Choose a new password')}`,
    ),
  },
  'email-changed': {
    subject: 'Your email address was changed',
    text:
      'The email of your account was changed from {{email}} to {{newEmail}}. If that was not you, contact the administrator now.' +
      FOOTER_TEXT,
    html: page(
      `<p>The email of your account was changed from <b>{{email}}</b> to <b>{{newEmail}}</b>.</p><p>If that was not you, contact the administrator now.</p>`,
    ),
  },
  'password-reset-done': {
    subject: 'Your password was reset',
    text:
      'The password of {{email}} was just reset and every session was signed out. If that was not you, reset it again now:\n\n{{link}}' +
      FOOTER_TEXT,
    html: page(
      `<p>The password of <b>{{email}}</b> was just reset and every session was signed out.</p><p>If that was not you, reset it again now.</p>${button('Reset my password')}`,
    ),
  },
  'password-reset-factors-removed': {
    subject: 'Your password was reset and two-step verification removed',
    text:
      'The password of {{email}} was just reset and every session was signed out.\n\n' +
      'The address had not been confirmed before, so the two-step verification set up on the account (authenticator ' +
      'app, passkeys, recovery codes) may not have been yours: it was removed. Set up your own under Account, ' +
      'Two-step verification:\n\n{{accountLink}}\n\nIf the reset was not you, reset the password again now:\n\n{{link}}' +
      FOOTER_TEXT,
    html: page(
      `<p>The password of <b>{{email}}</b> was just reset and every session was signed out.</p>` +
        `<p>The address had not been confirmed before, so the two-step verification set up on the account (authenticator app, passkeys, recovery codes) may not have been yours: it was removed. <a href="{{accountLink}}">Set up your own</a>.</p>` +
        `<p>If the reset was not you, reset the password again now.</p>${button('Reset my password')}`,
    ),
  },
  'new-device': {
    subject: 'New sign-in to your account',
    text:
      'Your account {{email}} was just signed in to from a device or network we had not seen before:\n\n' +
      '  When: {{time}}\n  Browser: {{userAgent}}\n  Address: {{ip}}\n\n' +
      'If this was you, nothing needs doing. If not, change your password and sign out everywhere here:\n\n{{link}}' +
      FOOTER_TEXT,
    html: page(
      `<p>Your account <b>{{email}}</b> was just signed in to from a device or network we had not seen before.</p><p>When: {{time}}<br>Browser: {{userAgent}}<br>Address: {{ip}}</p><p>If this was you, nothing needs doing. If not, change your password and sign out everywhere:</p>${button('Review my account')}`,
    ),
  },
} satisfies Record<string, MailTemplate>;

/** A built-in template's name. */
export type TemplateName = keyof typeof BUILT_IN_TEMPLATES | (string & {});

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fill(template: string, values: Readonly<Record<string, string>>, escape: boolean): string {
  return template.replace(PLACEHOLDER, (_m, name: string) => {
    const value = values[name] ?? '';
    return escape ? escapeHtml(value) : value;
  });
}

/** Reads an operator override: `<name>.txt` (Subject line, blank line, body) and/or `<name>.html`. */
function readOverride(dir: string, name: string, base: MailTemplate): MailTemplate {
  const result = { ...base };
  const textFile = join(dir, `${name}.txt`);
  if (existsSync(textFile)) {
    const raw = readFileSync(textFile, 'utf8').replace(/\r\n/g, '\n');
    const match = /^Subject:[ \t]*(.*)\n\n?([\s\S]*)$/.exec(raw);
    if (match === null) throw new Error(`${textFile}: the first line must be "Subject: …"`);
    result.subject = match[1]!.trim();
    result.text = match[2]!;
  }
  const htmlFile = join(dir, `${name}.html`);
  if (existsSync(htmlFile)) result.html = readFileSync(htmlFile, 'utf8');
  return result;
}

/** The templates in use: the built-in ones, each replaced by the operator's files where present. */
export class Templates {
  readonly #templates = new Map<string, MailTemplate>();

  constructor(overrideDir?: string, extra: Readonly<Record<string, MailTemplate>> = {}) {
    for (const [name, template] of Object.entries({ ...BUILT_IN_TEMPLATES, ...extra })) {
      this.#templates.set(
        name,
        overrideDir === undefined ? template : readOverride(overrideDir, name, template),
      );
    }
  }

  /** Whether a template of this name exists. */
  has(name: string): boolean {
    return this.#templates.has(name);
  }

  /** Renders a template; throws for an unknown name (a programming error). */
  render(name: string, values: Readonly<Record<string, string>>): RenderedMail {
    const template = this.#templates.get(name);
    if (template === undefined) throw new Error(`no mail template named "${name}"`);
    return {
      subject: fill(template.subject, values, false).replace(/[\r\n]+/g, ' '),
      text: fill(template.text, values, false),
      html: fill(template.html, values, true),
    };
  }
}
