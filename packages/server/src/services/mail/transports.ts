/**
 * Where messages go: SMTP through nodemailer when `JOT_SMTP_URL` is set; otherwise (development) each message is
 * written as an `.eml` file under `<dataDir>/mail` and its text to the log, so a developer can follow the links.
 * nodemailer is loaded at the first message, not with the server; a failure to load it fails that delivery (logged,
 * retried by the outbox) like a mail server that does not answer.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { FastifyBaseLogger } from 'fastify';
import type { Transporter } from 'nodemailer';

import { lazyImport } from '../lazy-import.js';
import type { RenderedMail } from './templates.js';

const nodemailer = lazyImport(async () => (await import('nodemailer')).default);

/** A nodemailer transporter made by `make` at the first send (loading nodemailer then) and reused after. */
function madeAtFirstSend<T extends Transporter>(
  make: (lib: Awaited<ReturnType<typeof nodemailer.load>>) => T,
): { get(): Promise<T>; close(): void } {
  let transporter: T | undefined;
  return {
    async get() {
      const lib = await nodemailer.load();
      // After the await, so that concurrent first sends make one transporter.
      return (transporter ??= make(lib));
    },
    // The sender closes its transport once no delivery is in progress (outbox-sender.ts): none is being made.
    close: () => transporter?.close(),
  };
}

/** A message with its envelope. */
export interface OutgoingMail extends RenderedMail {
  from: string;
  to: string;
  /** Stable across retries (`<outbox id@jot>`), so a receiver can recognise a duplicate delivery. */
  messageId: string;
}

/** Delivers one message or throws. */
export interface MailTransport {
  readonly kind: 'smtp' | 'file';
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/**
 * SMTP via nodemailer (`smtp://user:pass@host:port`, `smtps://` for implicit TLS): one connection per message
 * (nothing to go stale while the mail server is down), with timeouts.
 */
export function smtpTransport(url: string): MailTransport {
  const parsed = new URL(url);
  const transport = madeAtFirstSend((lib) =>
    lib.createTransport({
      host: decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, '')),
      port: parsed.port === '' ? (parsed.protocol === 'smtps:' ? 465 : 587) : Number(parsed.port),
      secure: parsed.protocol === 'smtps:',
      auth:
        parsed.username === ''
          ? undefined
          : { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) },
      // `?requireTLS=true` insists on STARTTLS, `?ignoreTLS=true` never tries it (a local relay), and
      // `?rejectUnauthorized=false` accepts a self-signed certificate.
      requireTLS: parsed.searchParams.get('requireTLS') === 'true',
      ignoreTLS: parsed.searchParams.get('ignoreTLS') === 'true',
      tls: { rejectUnauthorized: parsed.searchParams.get('rejectUnauthorized') !== 'false' },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    }),
  );
  return {
    kind: 'smtp',
    async send(mail) {
      await (await transport.get()).sendMail({ ...mail });
    },
    close: () => transport.close(),
  };
}

/** Development: `.eml` files under `dir`, and the text (with its links) in the log unless `quiet`. */
export function fileTransport(
  dir: string,
  logger: FastifyBaseLogger,
  options: { quiet: boolean },
): MailTransport {
  const render = madeAtFirstSend((lib) =>
    lib.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }),
  );
  return {
    kind: 'file',
    async send(mail) {
      const info = await (await render.get()).sendMail({ ...mail });
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${mail.messageId.replace(/[^A-Za-z0-9-]/g, '')}.eml`;
      const file = join(dir, name);
      writeFileSync(file, info.message as Buffer, { mode: 0o600 });
      if (options.quiet)
        logger.info({ to: mail.to, subject: mail.subject, file }, 'mail written (no JOT_SMTP_URL)');
      else logger.info({ to: mail.to, subject: mail.subject, file }, `mail (no JOT_SMTP_URL):\n${mail.text}`);
    },
    close: () => render.close(),
  };
}
