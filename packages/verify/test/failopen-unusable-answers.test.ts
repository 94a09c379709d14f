/**
 * `failOpen` accepts tokens only while the feed is unreachable. A feed that answers 200 with something the verifier
 * cannot use — an entry of a kind it does not know, a JSON object that is not a feed page, an SSE event past the
 * 1 MiB limit, a snapshot page after the first that starts over — is not an outage: such answers used to count as
 * one (a `FetchError` without a status, or the parser's plain `Error`), so a verifier that could not get past them
 * accepted tokens revoked after them. They are refusals now, on the snapshot path and on the stream path: 503
 * `ERR_VERIFY_REVOCATION_REFUSED` once stale.
 */
import { expect, it } from 'vitest';

import type { FetchLike } from '../src/index.js';
import { codeOf, connected } from './support/outcome.js';
import { useReplicatedVerifier } from './support/replicated-verifier.js';
import { waitFor } from './support/wait.js';

const setup = useReplicatedVerifier();

/** A token of a session the user has just logged out of, on a feed the verifier cannot follow any more. */
async function afterLogout(): Promise<string> {
  setup.issuer.feed.revoke('sid', 'sess-logged-out');
  setup.now += 2500; // past maxStaleness (2 s)
  return setup.issuer.tokens.sign({ sid: 'sess-logged-out' });
}

it('an entry of an unknown kind in every snapshot: refused, not failed open', async () => {
  const v = setup.build({ maxStaleness: '2s', failOpen: true });
  await v.ready();
  await waitFor(connected(v));
  // A newer server's kind of entry, on the stream and in every snapshot.
  setup.issuer.feed.revoke('client' as 'jti', 'c-1');
  await waitFor(() => (v.stats().revocation.failures ?? 0) >= 2, 2000, 'snapshot refused');
  const token = await afterLogout();
  expect(await codeOf(v.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED');
  expect(v.stats().revocation.failOpen).toBe(0);
});

it('an entry of an unknown kind on the stream, then the feed down: refused, not failed open', async () => {
  const v = setup.build({ maxStaleness: '2s', failOpen: true });
  await v.ready();
  await waitFor(connected(v));
  // The reload the entry asks for finds the feed down (503, an outage): the copy still lacks the entry.
  setup.issuer.feed.feedDown = true;
  setup.issuer.feed.sendRaw(
    'event: revocation\nid: 7\ndata: {"id":"7","kind":"client","subject":"c","expires_at":9999999999}\n\n',
  );
  await waitFor(() => (v.stats().revocation.failures ?? 0) >= 1, 2000, 'reload failed');
  const token = await afterLogout();
  expect(await codeOf(v.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED');
});

it('an SSE event past the 1 MiB limit: the snapshot is reloaded, and failing that it is refused', async () => {
  const v = setup.build({ maxStaleness: '2s', failOpen: true });
  await v.ready();
  await waitFor(connected(v));
  setup.issuer.feed.feedDown = true;
  const huge = JSON.stringify({
    id: '8',
    kind: 'sid',
    subject: 'x'.repeat(1_100_000),
    expires_at: 9999999999,
  });
  setup.issuer.feed.sendRaw(`event: revocation\nid: 8\ndata: ${huge}\n\n`);
  await waitFor(() => (v.stats().revocation.failures ?? 0) >= 1, 2000, 'feed failed');
  const token = await afterLogout();
  expect(await codeOf(v.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED');
  expect(setup.issuer.feed.counts.snapshot).toBeGreaterThanOrEqual(2); // the reload was asked for
  expect(v.stats().revocation.cursor).toBe('0');
  expect(setup.logger.lines.some((l) => /larger than the 1 MiB limit/.test(l.message))).toBe(true);
});

it('a snapshot answer that is a JSON object but not a feed page: refused, not failed open', async () => {
  let notAPage = false;
  const fetchImpl: FetchLike = (input, init) =>
    notAPage && new URL(input).pathname === '/api/revocations'
      ? Promise.resolve(Response.json({ status: 'ok' }))
      : fetch(input, init);
  const v = setup.build({ maxStaleness: '2s', failOpen: true }, { fetch: fetchImpl });
  await v.ready();
  await waitFor(connected(v));
  notAPage = true;
  setup.issuer.feed.resetStreams();
  await waitFor(() => /did not answer a revocation page/.test(v.stats().revocation.lastError ?? ''));
  const token = await afterLogout();
  expect(await codeOf(v.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED');
});

it('a snapshot whose every page starts over (since ignored, as by a proxy that drops the query): refused', async () => {
  let sinceIgnored = false;
  const fetchImpl: FetchLike = (input, init) =>
    sinceIgnored && new URL(input).pathname === '/api/revocations'
      ? Promise.resolve(
          Response.json({ entries: [], cursor: '5.AbCdEfGhIjK', has_more: true, snapshot: true }),
        )
      : fetch(input, init);
  const v = setup.build({ maxStaleness: '2s', failOpen: true }, { fetch: fetchImpl });
  await v.ready();
  await waitFor(connected(v));
  sinceIgnored = true;
  setup.issuer.feed.resetStreams();
  await waitFor(() => (v.stats().revocation.failures ?? 0) >= 2, 2000, 'the reload failed twice');
  expect(v.stats().revocation.lastError).toMatch(/restarted while the snapshot loaded/);
  const token = await afterLogout();
  expect(await codeOf(v.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED');
  expect(v.stats().revocation.failOpen).toBe(0);
});

it('a feed that is down (an outage) still fails open with failOpen', async () => {
  const v = setup.build({ maxStaleness: '2s', failOpen: true });
  await v.ready();
  await waitFor(connected(v));
  setup.issuer.feed.feedDown = true;
  setup.issuer.feed.dropStreams();
  await waitFor(() => (v.stats().revocation.failures ?? 0) >= 1, 2000, 'reconnect failed');
  setup.now += 2500;
  expect(await codeOf(v.verify(setup.issuer.tokens.sign({})))).toBe('accepted');
  expect(v.stats().revocation.failOpen).toBe(1);
});
