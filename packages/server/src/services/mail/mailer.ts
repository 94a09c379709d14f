/**
 * The mail service other features use: `send({ to, template, values, idempotencyKey })` renders the template, seals
 * the result and puts it in the outbox (one row per idempotency key: the same request never mails twice), then wakes
 * the sender. Delivery happens later, with retries, from whichever instance claims the row first.
 *
 * @example
 * await app.jot.mailer.send({
 *   to: user.email,
 *   userId: user.id,
 *   template: 'new-device',
 *   values: { link: app.jot.mailer.link('/account') },
 *   idempotencyKey: `new-device:${session.id}`,
 * });
 */
import type { FastifyBaseLogger } from 'fastify';

import type { Config } from '../../config/index.js';
import type { Clock } from '../../clock.js';
import { outboxAddress, type Store } from '../../store/index.js';
import { deriveKey, openWith, sealWith } from '../secrets.js';
import { startOutboxSender, type OutboxSender, type SenderSettings } from './outbox-sender.js';
import { Templates, type MailTemplate, type RenderedMail, type TemplateName } from './templates.js';
import { fileTransport, smtpTransport, type MailTransport } from './transports.js';

/** A message to queue. */
export interface MailRequest {
  to: string;
  template: TemplateName;
  /** Placeholder values; `appName` and `email` (= `to`) are filled in when absent. */
  values?: Readonly<Record<string, string>>;
  /** One message per key, ever: e.g. `password-reset:<jti>`. */
  idempotencyKey: string;
  /**
   * The account the message is about (whatever address it goes to: a new one being confirmed, a former one told of
   * a change), so deleting the account deletes the message; absent for mail to no account (an invitation).
   */
  userId?: string;
}

/** The mail service. */
export interface Mailer {
  /** Queues a message; resolves once it is stored (`queued: false` when the key was already used). */
  send(request: MailRequest): Promise<{ id: string; queued: boolean }>;
  /** An absolute link into the web UI, e.g. `link('/reset-password', { token })` → `<publicUrl>/#/reset-password?token=…`. */
  link(route: string, query?: Readonly<Record<string, string>>): string;
  /** `'smtp'` or `'file'` (development). */
  readonly transport: MailTransport['kind'];
  /** Delivers what is due now and resolves when done (the CLI, before it exits). */
  flush(): Promise<void>;
  /** Stops the sender (waits for a delivery in progress). */
  close(): Promise<void>;
}

/** Default retry policy (`JOT_MAIL_RETRY_BASE` sets the base). */
const SENDER_DEFAULTS: Omit<SenderSettings, 'retryBaseMs' | 'pollMs'> = {
  maxDelayMs: 60 * 60_000,
  maxAttempts: 12,
  leaseMs: 2 * 60_000,
  batchSize: 10,
};

/** Human wording of a lifetime for messages: "15 minutes", "24 hours", "7 days". */
export function humanDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.round(hours / 24)} days`;
}

/** Builds the mailer and starts its sender. */
export function createMailer(deps: {
  config: Config;
  store: Store;
  logger: FastifyBaseLogger;
  clock: Clock;
  /** Overrides for tests. */
  sender?: Partial<SenderSettings>;
  transport?: MailTransport;
  /** Templates other features add. */
  templates?: Readonly<Record<string, MailTemplate>>;
}): Mailer {
  const { config, store, logger, clock } = deps;
  const templates = new Templates(config.mailTemplatesDir, deps.templates);
  const key = deriveKey(config.kek, 'jot mail outbox v1');
  const transport =
    deps.transport ??
    (config.smtpUrl === undefined
      ? fileTransport(`${config.dataDir}/mail`, logger, { quiet: config.nodeEnv === 'production' })
      : smtpTransport(config.smtpUrl));
  const retryBaseMs = deps.sender?.retryBaseMs ?? config.mailRetryBaseMs;
  const sender: OutboxSender = startOutboxSender({
    store,
    transport,
    from: config.mailFrom,
    logger,
    clock,
    open: (payload) => {
      const text = openWith(key, payload);
      return text === undefined ? undefined : (JSON.parse(text) as RenderedMail);
    },
    settings: { ...SENDER_DEFAULTS, retryBaseMs, pollMs: Math.min(5000, retryBaseMs), ...deps.sender },
  });

  return {
    transport: transport.kind,
    async send(request) {
      const to = outboxAddress(request.to);
      const rendered = templates.render(request.template, {
        appName: 'Jot',
        email: to,
        ...request.values,
      });
      const { message, created } = await store.enqueueMail({
        idempotencyKey: request.idempotencyKey,
        template: request.template,
        to,
        payload: sealWith(key, JSON.stringify(rendered)),
        ...(request.userId === undefined ? {} : { userId: request.userId }),
      });
      if (created) sender.kick();
      return { id: message.id, queued: created };
    },
    link(route, query = {}) {
      const search = new URLSearchParams(query).toString();
      return `${config.publicUrl}/#${route}${search === '' ? '' : `?${search}`}`;
    },
    flush: () => sender.flush(),
    close: () => sender.close(),
  };
}
