/** Mail, links and the account lifecycle (issue 12): the public URL, SMTP, registration and link lifetimes. */
import { resolve } from 'node:path';

import * as p from './parsers.js';
import type { SettingsReader } from './reader.js';
import type { Config, EmailVerification, Registration } from './types.js';

/** The mail and account-lifecycle settings. */
export type MailSettings = Pick<
  Config,
  | 'publicUrl'
  | 'smtpUrl'
  | 'mailFrom'
  | 'mailRetryBaseMs'
  | 'mailTemplatesDir'
  | 'emailVerification'
  | 'registration'
  | 'oneTimeTokenTtlMs'
  | 'rateLimitMail'
>;

/** Reads the mail settings; the public URL and sender default from the issuer, paths resolve against `cwd`. */
export function readMailSettings(
  { read, get, duration }: SettingsReader,
  context: { issuer: string; production: boolean; cwd: string },
): MailSettings {
  const { issuer, production, cwd } = context;
  const issuerHost = new URL(issuer).hostname;
  return {
    publicUrl: (read('publicUrl', p.httpUrl) ?? issuer).replace(/\/+$/, ''),
    smtpUrl: read('smtpUrl', p.smtpUrl),
    mailFrom: read('mailFrom', p.string) ?? `Jot <no-reply@${issuerHost}>`,
    mailRetryBaseMs: duration('mailRetryBase', 1000, p.TIMER_MAX_MS),
    mailTemplatesDir: read('mailTemplatesDir', (v) => resolve(cwd, p.string(v))),
    emailVerification: get('emailVerification', (v): EmailVerification =>
      p.oneOf(v, ['off', 'optional', 'required']),
    ),
    registration:
      read('registration', (v): Registration => p.oneOf(v, ['open', 'invite', 'closed'])) ??
      (production ? 'closed' : 'open'),
    oneTimeTokenTtlMs: {
      passwordReset: duration('passwordResetTtl', 60_000),
      emailVerification: duration('emailVerificationTtl', 60_000),
      emailChange: duration('emailChangeTtl', 60_000),
      invitation: duration('invitationTtl', 60_000),
    },
    rateLimitMail: get('rateLimitMail', p.rate),
  };
}
