/**
 * The outbox sender: claims due messages with a lease (so N instances never send the same row), delivers them and
 * marks them sent; a failure makes the message due again after an exponential back-off with jitter, until the last
 * attempt. Messages survive restarts because they are rows, not memory: a message whose sender died is claimed
 * again once its lease runs out. A batch is claimed under one lease, but each row's lease is renewed right before
 * it is delivered (`outbox-delivery.ts`), so a row another sender took after the lease ran out is skipped, not sent
 * twice. Database or transport outages are logged and retried; they never throw out.
 * One message's delivery is `outbox-delivery.ts`; the back-off is `outbox-backoff.ts`.
 */
import { randomUUID } from 'node:crypto';

import type { RetrySettings } from './outbox-backoff.js';
import { deliverMessage, type OutboxDelivery } from './outbox-delivery.js';

/** How the sender retries and polls. */
export interface SenderSettings extends RetrySettings {
  /** How long a claim holds a row, renewed right before each delivery; longer than any one delivery can take. */
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

/** The sender's delivery dependencies with its full settings. */
type SenderDelivery = OutboxDelivery & { settings: SenderSettings };

/** What the polling loop keeps between passes. */
interface SenderState {
  timer: NodeJS.Timeout | undefined;
  /** The pass in progress. */
  running: Promise<void> | undefined;
  /** Another pass is wanted when this one ends (a kick during it, or a full batch). */
  again: boolean;
  closed: boolean;
}

/** Starts the sender. `open` turns a stored payload back into the message (undefined if it cannot). */
export function startOutboxSender(deps: Omit<SenderDelivery, 'owner'>): OutboxSender {
  const delivery: SenderDelivery = { ...deps, owner: randomUUID() };
  const { settings, transport } = deps;
  const state: SenderState = { timer: undefined, running: undefined, again: false, closed: false };

  function run(): void {
    if (state.closed) return;
    if (state.running !== undefined) {
      state.again = true;
      return;
    }
    state.running = deliverDue(delivery, state).finally(() => {
      state.running = undefined;
      schedule();
    });
  }

  function schedule(): void {
    if (state.closed) return;
    clearTimeout(state.timer);
    state.timer = setTimeout(run, settings.pollMs);
    state.timer.unref();
  }

  run();
  return {
    kick: run,
    async flush() {
      run();
      while (state.running !== undefined) await state.running;
    },
    async close() {
      state.closed = true;
      clearTimeout(state.timer);
      await state.running;
      transport.close();
    },
  };
}

/** One pass: claims and delivers batches until a batch is not full or the sender closes. Never throws. */
async function deliverDue(delivery: SenderDelivery, state: SenderState): Promise<void> {
  const { store, logger, settings, owner } = delivery;
  do {
    state.again = false;
    let batch;
    try {
      batch = await store.claimDueMail(owner, settings.batchSize, settings.leaseMs);
    } catch (err) {
      logger.warn({ err }, 'mail outbox: could not claim messages (will retry)');
      return;
    }
    for (const message of batch) {
      if (state.closed) return;
      await deliverMessage(delivery, message).catch((err: unknown) =>
        logger.warn({ err, outboxId: message.id }, 'mail outbox error'),
      );
    }
    if (batch.length === settings.batchSize) state.again = true;
  } while (state.again && !state.closed);
}
