/**
 * A closed client emits no `session:ended`: `close()` is the app saying it is done with the client (a torn-down
 * component, a finished script), so its handlers must not run afterwards — not for a sign-out called after close(),
 * nor for a refusal of a refresh that was already in flight.
 */
import { describe, expect, it, vi } from 'vitest';

import type { FetchLike } from '../src/index.js';
import { fakeSessionPerTest } from './support/fake-session.js';

const fake = fakeSessionPerTest();

describe('after close()', () => {
  it('a sign-out ends the session on the server but emits no session:ended', async () => {
    const client = fake.bearer();
    const ended = vi.fn();
    client.on('session:ended', ended);
    await client.login('a@b.c', 'pw');
    client.close();
    await client.logout();
    expect(fake.server.count('POST /api/logout')).toBe(1);
    expect(client.signedIn).toBe(false);
    expect(ended).not.toHaveBeenCalled();
  });

  it('a refresh in flight at close() that is refused emits no session:ended', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((r) => (release = r));
    const fetch: FetchLike = async (input, init) => {
      if (new URL(new Request(input, init).url).pathname === '/api/token/refresh') {
        await held;
        fake.server.endSession(); // refused when it arrives
      }
      return fake.server.fetch(input, init);
    };
    const client = fake.bearer({ fetch, refreshMargin: 10 });
    const ended = vi.fn();
    client.on('session:ended', ended);
    await client.login('a@b.c', 'pw');
    await vi.advanceTimersByTimeAsync(50_500); // the timer's refresh is on the wire
    client.close();
    release();
    await vi.advanceTimersByTimeAsync(10);
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
    expect(ended).not.toHaveBeenCalled();
  });
});
