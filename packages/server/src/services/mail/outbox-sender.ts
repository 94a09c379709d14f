/**
 * The outbox sender: claims due messages with a lease (so N instances never send the same row), delivers them and
 * marks them sent; a failure makes the message due again after an exponential back-off with jitter, until the last
 * attempt. Messages survive restarts because they are rows, not memory: a message whose sender died is claimed
 * again once its lease runs out. Database or transport outages are logged and retried; they never throw out.
 */
import { randomUUID } from 'node:crypto';

import type { FastifyBaseLogger } from 'fastify';

import type { Clock } from '../../clock.js';
import type { OutboxMessage, Store } from '../../store/index.js';
import type { MailTransport } from './transports.js';
import type { RenderedMail } from './templates.js';

/** How the sender retries. */
export interface SenderSettings {
  /** First retry delay; each further one doubles, up to `maxDelayMs`. */
  retryBaseMs: number;
  maxDelayMs: number;
  /** Attempts before a message is marked failed (`jot outbox retry` revives it). */
  maxAttempts: number;
  /** How long a claim holds a row; longer than any one delivery can take. */
  leaseMs: number;
  /** How often the outbox is polled for due messages (enqueues on this instance wake it at once). */
  pollMs: number;
  batchSize: number;
}

/** The running sender. */
export interface OutboxSender {
  /** Looks for due messages now (after an enqueue). */
  kick(): void;
  /** Delivers everything due now (one pass, failures rescheduled as usual) and resolves when done. */
  flush(): Promise<void>;
  /** Stops polling and waits for the delivery in progress. */
  close(): Promise<void>;
}

/** The delay before attempt `attempts + 1`: base · 2^(attempts−1), capped, ±20 % jitter. */
export function backoffMs(
  attempts: number,
  settings: Pick<SenderSettings, 'retryBaseMs' | 'maxDelayMs'>,
): number {
  const raw = Math.min(settings.maxDelayMs, settings.retryBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

/** Starts the sender. `open` turns a stored payload back into the message (undefined if it cannot). */
export function startOutboxSender(deps: {
  store: Store;
  transport: MailTransport;
  from: string;
  open: (payload: string) => RenderedMail | undefined;
  logger: FastifyBaseLogger;
  clock: Clock;
  settings: SenderSettings;
}): OutboxSender {
  const { store, transport, logger, clock, settings } = deps;
  const owner = randomUUID();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  async function deliver(message: OutboxMessage): Promise<void> {
    const rendered = deps.open(message.payload);
    try {
      if (rendered === undefined)
        throw new Error('the stored message cannot be decrypted (was JOT_KEK changed?)');
      await transport.send({
        ...rendered,
        from: deps.from,
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

  async function drain(): Promise<void> {
    do {
      again = false;
      let batch: OutboxMessage[];
      try {
        batch = await store.claimDueMail(owner, settings.batchSize, settings.leaseMs);
      } catch (err) {
        logger.warn({ err }, 'mail outbox: could not claim messages (will retry)');
        return;
      }
      for (const message of batch) {
        if (closed) return;
        await deliver(message).catch((err: unknown) =>
          logger.warn({ err, outboxId: message.id }, 'mail outbox error'),
        );
      }
      if (batch.length === settings.batchSize) again = true;
    } while (again && !closed);
  }

  function run(): void {
    if (closed) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = drain().finally(() => {
      running = undefined;
      schedule();
    });
  }

  function schedule(): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(run, settings.pollMs);
    timer.unref();
  }

  run();
  return {
    kick: run,
    async flush() {
      run();
      while (running !== undefined) await running;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
      transport.close();
    },
  };
}
