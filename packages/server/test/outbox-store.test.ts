/**
 * The mail outbox's atomicity on both backends, with several store connections standing in for several server
 * instances: an idempotency key makes one message; concurrent claimers never share a row; a lease keeps a row from
 * others until it runs out; only the lease holder can settle a row; failed messages come back with `retryMail`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Store } from '../src/store/store.js';
import { onBothBackends } from './support/store-backends.js';

const T0 = 1_800_000_000_000;

function suite(name: string, open: () => Promise<Store>, teardown: () => Promise<void>): void {
  describe(`mail outbox: ${name}`, () => {
    const instances: Store[] = [];
    beforeAll(async () => {
      // One after the other: each open runs the migrations.
      for (let i = 0; i < 3; i++) instances.push(await open());
    });
    afterAll(async () => {
      for (const s of instances) await s.close();
      await teardown();
    });
    const msg = (key: string) => ({
      idempotencyKey: key,
      template: 't',
      to: `${key}@example.com`,
      payload: 'sealed',
    });

    it('one message per idempotency key, even when enqueued concurrently', async () => {
      const results = await Promise.all(instances.map((s) => s.enqueueMail(msg('once'), T0)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
    });

    it('concurrent claimers on different connections never get the same row', async () => {
      for (let i = 0; i < 30; i++) await instances[0]!.enqueueMail(msg(`batch-${name}-${i}`), T0);
      const claims = await Promise.all(
        instances.flatMap((s, i) => [0, 1].map((j) => s.claimDueMail(`owner-${i}-${j}`, 7, 60_000, T0 + 1))),
      );
      const ids = claims.flat().map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
      // Whatever one round left (a claimer may come away short under contention) goes in the next rounds.
      for (let round = 0; round < 10 && ids.length < 31; round++) {
        const more = await Promise.all(
          instances.map((s, i) => s.claimDueMail(`more-${i}`, 7, 60_000, T0 + 1)),
        );
        ids.push(...more.flat().map((m) => m.id));
      }
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(31); // 30 + the "once" message
      // Leased rows are nobody else's until the lease runs out.
      expect(await instances[1]!.claimDueMail('late', 100, 60_000, T0 + 2)).toEqual([]);
      const again = await instances[1]!.claimDueMail('late', 100, 60_000, T0 + 60_002);
      expect(again).toHaveLength(31);
      expect(again.every((m) => m.attempts === 2)).toBe(true);
    });

    it('only the lease holder settles a row; a failure is due again later, a give-up is revived by retry', async () => {
      const { message } = await instances[0]!.enqueueMail(msg(`settle-${name}`), T0);
      const [claimed] = await instances[0]!
        .claimDueMail('a', 100, 1000, T0 + 200_000)
        .then((rows) => rows.filter((r) => r.id === message.id));
      expect(claimed).toBeDefined();
      expect(await instances[1]!.markMailSent(message.id, 'b', T0)).toBe(false);
      expect(
        await instances[0]!.markMailFailed(message.id, 'a', {
          error: 'down',
          retryAt: T0 + 300_000,
          giveUp: false,
        }),
      ).toBe(true);
      expect((await instances[2]!.claimDueMail('c', 100, 1000, T0 + 299_999)).map((m) => m.id)).not.toContain(
        message.id,
      );
      const due = await instances[2]!.claimDueMail('c', 100, 1000, T0 + 300_000);
      expect(due.map((m) => m.id)).toContain(message.id);
      await instances[2]!.markMailFailed(message.id, 'c', {
        error: 'still down',
        retryAt: T0 + 400_000,
        giveUp: true,
      });
      const failed = await instances[0]!.listOutbox({ status: 'failed', limit: 100 });
      expect(failed.map((m) => m.id)).toContain(message.id);
      expect(await instances[0]!.retryMail([message.id], T0 + 500_000)).toBe(1);
      const revived = await instances[1]!.claimDueMail('d', 100, 1000, T0 + 500_000);
      const row = revived.find((m) => m.id === message.id);
      expect(row).toMatchObject({ attempts: 1, lastError: 'still down' });
      expect(await instances[1]!.markMailSent(message.id, 'd', T0 + 500_001)).toBe(true);
      const [sent] = (await instances[0]!.listOutbox({ status: 'sent', limit: 100 })).filter(
        (m) => m.id === message.id,
      );
      expect(sent).toMatchObject({ payload: '', sentAt: T0 + 500_001, leaseOwner: null });
      expect(await instances[0]!.retryMail([message.id])).toBe(0);
    });
  });
}

await onBothBackends('mail outbox', suite);
