/**
 * The stream's cursor moves past what the verifier applied and nothing else: `revocation` events, and the id-only
 * `message` an empty snapshot ends with. An event of a name it does not know that carries an id of its own (a newer
 * server's kind of entry, say) used to move the cursor too, skipping it for good; it is now an entry the copy cannot
 * apply — the cursor stays before it and the snapshot is reloaded. One without an id of its own is ignored.
 */
import { expect, it } from 'vitest';

import { connected } from './support/outcome.js';
import { useReplicatedVerifier } from './support/replicated-verifier.js';
import { waitFor } from './support/wait.js';

const setup = useReplicatedVerifier();

it('an event of an unknown name with an id is not skipped: the cursor stays, the snapshot is reloaded', async () => {
  const v = setup.build();
  await v.ready();
  await waitFor(connected(v));
  setup.issuer.feed.sendRaw(
    'event: revocation-v2\nid: 42\ndata: {"id":"42","kind":"sid","subject":"s","expires_at":9999999999}\n\n',
  );
  await waitFor(() => setup.issuer.feed.counts.snapshot === 2, 2000, 'snapshot reloaded');
  expect(v.stats().revocation.cursor).toBe('0');
  expect(setup.logger.lines.some((l) => /unknown name \(revocation-v2\)/.test(l.message))).toBe(true);
});

it('an event of an unknown name without an id of its own is ignored', async () => {
  const v = setup.build();
  await v.ready();
  await waitFor(connected(v));
  setup.issuer.feed.revoke('jti', 'a');
  await waitFor(() => v.stats().revocation.cursor === '1');
  setup.issuer.feed.sendRaw('event: hint\ndata: {"something":"new"}\n\n');
  setup.issuer.feed.revoke('jti', 'b');
  await waitFor(() => v.stats().revocation.cursor === '2');
  expect(v.stats().revocation).toMatchObject({ events: 2, snapshots: 1, connected: true });
});

it('the id-only message an empty snapshot ends with moves the cursor', async () => {
  const v = setup.build();
  await v.ready();
  await waitFor(connected(v));
  setup.issuer.feed.sendRaw('id: 17\ndata: {}\n\n');
  await waitFor(() => v.stats().revocation.cursor === '17');
  expect(v.stats().revocation.snapshots).toBe(1);
});
