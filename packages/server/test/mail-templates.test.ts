/**
 * Message templates and the development transport: an operator's folder replaces a message's subject and bodies,
 * values are escaped in HTML (never in text), a malformed override is refused at start, and without SMTP a message
 * becomes an `.eml` file plus a log line with its text.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { BUILT_IN_TEMPLATES, Templates } from '../src/services/mail/templates.js';
import { fileTransport } from '../src/services/mail/transports.js';
import { humanDuration } from '../src/services/mail/mailer.js';
import { backoffMs } from '../src/services/mail/outbox-backoff.js';

const dir = mkdtempSync(join(tmpdir(), 'jot-templates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('templates', () => {
  it('every built-in message has a subject, a text body with its link and an HTML body', () => {
    const templates = new Templates();
    for (const name of Object.keys(BUILT_IN_TEMPLATES)) {
      const mail = templates.render(name, {
        appName: 'Jot',
        email: 'a@example.com',
        link: 'https://ui.test/#/x',
      });
      expect(mail.subject).not.toBe('');
      if (BUILT_IN_TEMPLATES[name as keyof typeof BUILT_IN_TEMPLATES].text.includes('{{link}}')) {
        expect(mail.text).toContain('https://ui.test/#/x');
        expect(mail.html).toContain('href="https://ui.test/#/x"');
      }
    }
  });

  it('escapes values in HTML only, and keeps subjects on one line', () => {
    const mail = new Templates().render('email-changed', {
      appName: 'Jot',
      email: '<b>old</b>@example.com',
      newEmail: 'new"@example.com\r\nBcc: x@evil.test',
    });
    expect(mail.html).toContain('&#60;b&#62;old&#60;/b&#62;@example.com');
    expect(mail.html).not.toContain('<b>old</b>');
    expect(mail.text).toContain('<b>old</b>@example.com');
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(() => new Templates().render('no-such-template', {})).toThrow(/no mail template/);
  });

  it('an operator folder replaces a message; files it does not have keep the built-in version', () => {
    writeFileSync(join(dir, 'password-reset.txt'), 'Subject: {{appName}}: new password\n\nHi! {{link}}\n');
    writeFileSync(join(dir, 'password-reset.html'), '<p>Hi <a href="{{link}}">here</a></p>');
    const templates = new Templates(dir);
    const mail = templates.render('password-reset', { appName: 'Acme', link: 'https://ui.test/#/reset' });
    expect(mail).toEqual({
      subject: 'Acme: new password',
      text: 'Hi! https://ui.test/#/reset\n',
      html: '<p>Hi <a href="https://ui.test/#/reset">here</a></p>',
    });
    expect(templates.render('verify-email', { link: 'L' }).subject).toBe(
      BUILT_IN_TEMPLATES['verify-email'].subject,
    );
  });

  it('refuses an override without a Subject line', () => {
    const bad = mkdtempSync(join(tmpdir(), 'jot-templates-bad-'));
    try {
      writeFileSync(join(bad, 'invitation.txt'), 'Welcome!\n');
      expect(() => new Templates(bad)).toThrow(/Subject/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});

describe('development transport', () => {
  it('writes each message as an .eml file and logs its text', async () => {
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    const logger = {
      info: (obj: Record<string, unknown>, msg: string) => lines.push({ obj, msg }),
    } as unknown as Parameters<typeof fileTransport>[1];
    const out = join(dir, 'mail');
    const transport = fileTransport(out, logger, { quiet: false });
    await transport.send({
      from: 'Jot <no-reply@jot.test>',
      to: 'dev@example.com',
      subject: 'Reset your password',
      text: 'Open https://ui.test/#/reset-password?token=abc',
      html: '<p>x</p>',
      messageId: '<1234@jot>',
    });
    transport.close();
    const [file] = readdirSync(out);
    const eml = readFileSync(join(out, file!), 'utf8');
    expect(eml).toMatch(/^To: dev@example.com$/m);
    expect(eml).toMatch(/^Message-ID: <1234@jot>$/m);
    expect(lines[0]!.msg).toContain('https://ui.test/#/reset-password?token=abc');
    expect(lines[0]!.obj).toMatchObject({ to: 'dev@example.com' });
  });
});

describe('retry policy', () => {
  it('doubles from the base up to the cap, with ±20 % jitter', () => {
    const settings = { retryBaseMs: 1000, maxDelayMs: 60_000 };
    for (const [attempts, nominal] of [
      [1, 1000],
      [2, 2000],
      [4, 8000],
      [20, 60_000],
    ] as const) {
      const d = backoffMs(attempts, settings);
      expect(d).toBeGreaterThanOrEqual(nominal * 0.8);
      expect(d).toBeLessThanOrEqual(nominal * 1.2);
    }
    expect(humanDuration(15 * 60_000)).toBe('15 minutes');
    expect(humanDuration(24 * 3_600_000)).toBe('24 hours');
    expect(humanDuration(7 * 86_400_000)).toBe('7 days');
  });
});
