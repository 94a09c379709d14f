/**
 * "With N instances each row goes to one sender" (docs/accounts.md, Mail), also with a slow mail server. A sender
 * claims a batch under one lease and delivers it message after message; before each delivery it renews its lease on
 * that row with a conditional UPDATE and skips the row when the renewal fails. So when the tail of a batch waits
 * past the lease (20 s per message, a batch of 10, a 2-minute lease) and another instance claims it, only that
 * instance sends it. `outbox retry` of a message being delivered keeps the live lease, so it does not hand the row
 * to a second sender either. Both backends. (Found by review: the tail of the batch was sent twice.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { startOutboxSender, type OutboxSender } from '../src/services/mail/outbox-sender.js';
import type { MailTransport, OutgoingMail } from '../src/services/mail/transports.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { createTestSchema } from './support/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'jot-outbox-lease-'));
let now = 1_800_000_000_000;
const clock = () => now;

const silent = {
  warn: () => undefined,
  info: () => undefined,
  error: () => undefined,
  debug: () => undefined,
} as never;

const settings = {
  retryBaseMs: 1000,
  maxDelayMs: 60 * 60_000,
  maxAttempts: 12,
  leaseMs: 2 * 60_000, // the production default (services/mail/mailer.ts)
  batchSize: 10, // the production default
  pollMs: 1_000_000,
};

const open = (p: string) => ({ subject: p, text: p, html: p });

function sender(store: Store, transport: MailTransport): OutboxSender {
  return startOutboxSender({ store, transport, from: 'x@y', open, logger: silent, clock, settings });
}

/** Instance A delivers a batch of 10 at 20 s a message; instance B polls while A is at its 7th. */
async function slowBatch(a: Store, b: Store, prefix: string): Promise<string[]> {
  const delivered: string[] = [];
  const fast: MailTransport = {
    kind: 'smtp',
    async send(mail: OutgoingMail) {
      delivered.push(mail.messageId);
    },
    close: () => undefined,
  };
  // B starts first (nothing due yet); A then claims the whole batch.
  const senderB = sender(b, fast);
  await senderB.flush();
  let sent = 0;
  const slow: MailTransport = {
    kind: 'smtp',
    async send(mail: OutgoingMail) {
      if (sent === 6) await senderB.flush();
      delivered.push(mail.messageId);
      sent++;
      now += 20_000; // a slow (but not timed-out) SMTP server
    },
    close: () => undefined,
  };
  for (let i = 0; i < 10; i++) {
    await a.enqueueMail({
      idempotencyKey: `${prefix}${i}`,
      template: 't',
      to: `u${i}@example.com`,
      payload: 'p',
    });
  }
  const senderA = sender(a, slow);
  await senderA.flush();
  await senderA.close();
  await senderB.close();
  return delivered;
}

function suite(name: string, openStores: () => Promise<[Store, Store]>, teardown: () => Promise<void>): void {
  describe(`outbox with two instances and a slow mail server: ${name}`, () => {
    let stores: [Store, Store] | undefined;
    afterAll(async () => {
      for (const s of stores ?? []) await s.close();
      await teardown();
    });

    it('never delivers one message twice', async () => {
      stores = await openStores();
      const delivered = await slowBatch(...stores, `${name}-k`);
      const counts = new Map<string, number>();
      for (const id of delivered) counts.set(id, (counts.get(id) ?? 0) + 1);
      expect(counts.size).toBe(10);
      expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
      const sent = await stores[0].listOutbox({ status: 'sent', limit: 100 });
      expect(sent.filter((m) => m.idempotencyKey.startsWith(`${name}-k`))).toHaveLength(10);
    });

    it('outbox retry of a message being delivered keeps its lease', async () => {
      const [a, b] = stores!;
      const { message } = await a.enqueueMail({
        idempotencyKey: `${name}-r`,
        template: 't',
        to: 'r@x',
        payload: 'p',
      });
      const [claimed] = (await a.claimDueMail('sender-a', 100, 60_000)).filter((m) => m.id === message.id);
      expect(claimed).toBeDefined();
      expect(await a.retryMail([message.id])).toBe(1);
      // Still sender A's: B cannot claim it while A delivers, and A can still settle it.
      expect((await b.claimDueMail('sender-b', 100, 60_000)).map((m) => m.id)).not.toContain(message.id);
      expect(await a.renewMailLease(message.id, 'sender-a', 60_000)).toBe(true);
      expect(await a.markMailSent(message.id, 'sender-a')).toBe(true);
    });

    it('a sender whose lease ran out and was claimed by another cannot renew it; an unclaimed one can', async () => {
      const [a, b] = stores!;
      const { message } = await a.enqueueMail({
        idempotencyKey: `${name}-l`,
        template: 't',
        to: 'l@x',
        payload: 'p',
      });
      expect((await a.claimDueMail('sender-a', 100, 1000)).map((m) => m.id)).toContain(message.id);
      now += 2000;
      expect(await a.renewMailLease(message.id, 'sender-a', 1000)).toBe(true); // nobody took it meanwhile
      now += 2000;
      expect((await b.claimDueMail('sender-b', 100, 60_000)).map((m) => m.id)).toContain(message.id);
      expect(await a.renewMailLease(message.id, 'sender-a', 60_000)).toBe(false);
      expect(await b.renewMailLease(message.id, 'sender-b', 60_000)).toBe(true);
    });
  });
}

suite(
  'sqlite',
  async () => [await openStore({ dataDir: dir, now: clock }), await openStore({ dataDir: dir, now: clock })],
  async () => rmSync(dir, { recursive: true, force: true }),
);

const pg = await createTestSchema();
if ('error' in pg) {
  if (process.env.CI || pg.broken) {
    describe('outbox lease: postgres', () => {
      it('needs a working, reachable Postgres', () => {
        throw new Error(pg.error);
      });
    });
  } else {
    console.warn(`\n⚠ SKIPPING the Postgres outbox lease suite: ${pg.error}\n`);
  }
} else {
  const pgDir = mkdtempSync(join(tmpdir(), 'jot-outbox-lease-pg-'));
  const openPg = () =>
    openStore({ url: pg.url, dataDir: pgDir, now: clock, postgres: { schema: pg.schema } });
  suite(
    'postgres',
    async () => [await openPg(), await openPg()],
    async () => {
      await pg.drop();
      rmSync(pgDir, { recursive: true, force: true });
    },
  );
}
