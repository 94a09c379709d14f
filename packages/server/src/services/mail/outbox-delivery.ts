/**
 * Delivering one claimed outbox message: renew the lease, open the stored payload, hand it to the transport, mark
 * it sent. The renewal is a conditional UPDATE that fails once another sender has claimed the row (this sender's
 * lease ran out while it delivered the messages before it in its batch, say to a slow mail server): the message is
 * then skipped, so without a crash each message goes out once. A sender that dies mid-delivery may cause one resend
 * after its lease runs out (at-least-once). A failure
 * (transport down, or a payload that no longer decrypts) makes the message due again after a back-off, or marks it
 * failed after the last attempt. Only the claim's owner can mark the row, so a sender whose lease ran out (another
 * instance claimed the message meanwhile) changes nothing and says so in the log.
 */
import type { FastifyBaseLogger } from 'fastify';

import type { Clock } from '../../clock.js';
import type { OutboxMessage, Store } from '../../store/index.js';
import { backoffMs, type RetrySettings } from './outbox-backoff.js';
import type { RenderedMail } from './templates.js';
import type { MailTransport } from './transports.js';

/** What delivering needs. */
export interface OutboxDelivery {
  store: Store;
  transport: MailTransport;
  from: string;
  /** Turns a stored payload back into the message (undefined if it cannot). */
  open: (payload: string) => RenderedMail | undefined;
  logger: FastifyBaseLogger;
  clock: Clock;
  /** The retry policy, and how long a lease (renewed before each delivery) holds a row. */
  settings: RetrySettings & { leaseMs: number };
  /** The sender's id, which its claims (leases) carry. */
  owner: string;
}

/**
 * Delivers `message` and marks it sent, or failed (due again later, or for good); skips it when this sender's lease
 * on it is gone.
 */
export async function deliverMessage(delivery: OutboxDelivery, message: OutboxMessage): Promise<void> {
  const { store, transport, logger, clock, settings, owner } = delivery;
  if (!(await store.renewMailLease(message.id, owner, settings.leaseMs))) {
    logger.info({ outboxId: message.id }, 'mail outbox: lease lost before delivery; another sender has it');
    return;
  }
  const rendered = delivery.open(message.payload);
  try {
    if (rendered === undefined)
      throw new Error('the stored message cannot be decrypted (was JOT_KEK changed?)');
    await transport.send({
      ...rendered,
      from: delivery.from,
      to: message.to,
      messageId: `<${message.id}@jot>`,
    });
  } catch (err) {
    const giveUp = rendered === undefined || message.attempts >= settings.maxAttempts;
    const error = err instanceof Error ? err.message : String(err);
    logger.warn(
      { outboxId: message.id, attempt: message.attempts, giveUp, err: error },
      'mail delivery failed',
    );
    await store.markMailFailed(message.id, owner, {
      error,
      retryAt: clock() + backoffMs(message.attempts, settings),
      giveUp,
    });
    return;
  }
  if (!(await store.markMailSent(message.id, owner))) {
    logger.warn({ outboxId: message.id }, 'mail sent after its lease ran out');
  }
}
