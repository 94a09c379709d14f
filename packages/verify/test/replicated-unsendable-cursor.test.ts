/**
 * A cursor the verifier could never send back. The cursor goes back as the `Last-Event-ID` header, and `fetch` throws
 * before any request for a header value it cannot encode (a character above U+00FF), so a feed that hands out such a
 * cursor — in a snapshot page or as a stream event's id — used to leave the verifier retrying the stream with it for
 * good: never reloading the snapshot, never recovering once the feed was fixed, and counting the failure as an outage,
 * so with `failOpen` it accepted every token once the copy went stale. Such a cursor is an answer the verifier cannot
 * use: a snapshot page carrying one is refused (and retried), a stream event carrying one is never moved past (the
 * snapshot is reloaded), and either way the copy fails closed, not open, until a usable answer arrives.
 */
import { expect, it } from 'vitest';

import type { FetchLike } from '../src/index.js';
import { codeOf, connected } from './support/outcome.js';
import { useReplicatedVerifier } from './support/replicated-verifier.js';
import { waitFor } from './support/wait.js';

const setup = useReplicatedVerifier();

/** A cursor `fetch` cannot put in a header: it throws a TypeError before sending anything. */
const UNSENDABLE = '9.\u20ac';

it('a stream event whose id cannot be sent back: the snapshot is reloaded and the stream followed again', async () => {
  const v = setup.build({ maxStaleness: '2s', failOpen: true });
  await v.ready();
  await waitFor(connected(v));
  const entry = JSON.stringify({ id: '9', kind: 'sid', subject: 'sess-9', data: {}, expires_at: 9999999999 });
  setup.issuer.feed.sendRaw(`event: revocation\nid: ${UNSENDABLE}\ndata: ${entry}\n\n`);
  await waitFor(
    () => (v.stats().revocation.events ?? 0) >= 1 || setup.issuer.feed.counts.snapshot >= 2,
    3000,
    'the event, read',
  );
  // A network blip: the verifier resumes from what it kept of that event, which must be something it can send.
  setup.issuer.feed.dropStreams();
  await waitFor(() => setup.issuer.feed.streamResumes.length >= 2, 3000, 'the stream, followed again');
  await waitFor(connected(v), 3000, 'the stream, connected again');
  expect(v.stats().revocation.cursor).toBe('0');
  expect(setup.issuer.feed.counts.snapshot).toBeGreaterThanOrEqual(2);
});

it('a snapshot page whose cursor cannot be sent back: refused, not failed open, and recovered from', async () => {
  let broken = false;
  const fetchImpl: FetchLike = async (input, init) => {
    const response = await fetch(input, init);
    if (!broken || new URL(input).pathname !== '/api/revocations') return response;
    const page = (await response.json()) as Record<string, unknown>;
    return Response.json({ ...page, cursor: UNSENDABLE });
  };
  const v = setup.build({ maxStaleness: '2s', failOpen: true }, { fetch: fetchImpl });
  await v.ready();
  await waitFor(connected(v));
  broken = true;
  setup.issuer.feed.resetStreams();
  await waitFor(() => (v.stats().revocation.failures ?? 0) >= 2, 3000, 'the reload refused');
  setup.issuer.feed.revoke('sid', 'sess-logged-out');
  setup.now += 2500; // past maxStaleness (2 s)
  const token = setup.issuer.tokens.sign({ sid: 'sess-logged-out' });
  expect(await codeOf(v.verify(token))).toBe('ERR_VERIFY_REVOCATION_REFUSED');
  expect(v.stats().revocation.failOpen).toBe(0);

  broken = false;
  await waitFor(connected(v), 3000, 'the stream, once the feed is fixed');
  expect(await codeOf(v.verify(token))).toBe('ERR_TOKEN_REVOKED');
});
