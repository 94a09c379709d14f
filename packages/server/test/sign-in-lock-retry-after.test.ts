/**
 * What a sign-in refused by the account's lock is told to wait (`Retry-After`) when the lock was set by attempts still
 * being checked. Every attempt is counted (reserved) before its password is checked and earns its lock right then, so
 * a right password sent twice at once past the budget — a retry, a double click — is refused while the first one is
 * checked: that stays (it cannot be told from a guess without a check, and a check more would be a guess more). But
 * the refusal's wait is the lock that stands whatever those attempts turn out to be — the remaining time of a lock set
 * by failures already checked, else none (`Retry-After: 1`) — not the fresh, full lock of an attempt that may be right
 * and then takes its lock back. Once the attempt holding it is judged wrong, its lock is confirmed and quoted in full.
 * A right password never extends nor escalates a lock. On SQLite and on two instances over one PostgreSQL database,
 * with a controlled clock; the password checks are held at a gate (support/password-gate.ts), so the order is by
 * counts, not times.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { clusterBackendsAvailable, startCluster, type Cluster } from './support/cluster.js';
import { PASSWORD, expectLocked, signIn } from './support/devices.js';
import { signUp, startServer, type TestResponse, type TestServer } from './support/jot-server.js';
import { gatePasswordChecks } from './support/password-gate.js';

/** `JOT_LOGIN_LOCKOUT` `2/30s`: the second consecutive failure locks for 30 s, the third for 60 s. */
const SETTINGS = {
  loginLockout: '2/30s',
  loginLockoutMax: '15m',
  trustProxy: true,
  rateLimitAuth: '100000/min',
};

let nextAccount = 0;
const newEmail = (what: string): string => `${what}-${nextAccount++}@example.com`;

const retryAfter = (res: TestResponse): number => Number(res.headers.get('retry-after'));

/**
 * Sends `first` and, once it is held at its password check, `second` (which the lock `first` set refuses); then lets
 * `first` finish. Returns both answers.
 */
async function heldThenRefused(
  servers: readonly TestServer[],
  first: () => Promise<TestResponse>,
  second: () => Promise<TestResponse>,
): Promise<[TestResponse, TestResponse]> {
  const gate = gatePasswordChecks(servers, 2);
  try {
    const held = gate.send(first);
    await gate.reached(1);
    const refused = await gate.send(second);
    return [await held, refused];
  } finally {
    gate.restore();
  }
}

function suite(setup: () => { servers: () => readonly TestServer[]; advance: (ms: number) => void }): void {
  const { servers, advance } = setup();
  const a = (): TestServer => servers()[0]!;
  const b = (): TestServer => servers()[servers().length - 1]!;

  it('the right password twice at once past the budget: the second is refused with no wait to add, and signs in at once after', async () => {
    const email = newEmail('double-click');
    await signUp(a(), email, PASSWORD);
    expect((await signIn(a(), email, 'typo')).status).toBe(401);
    // The first attempt's reservation is the second failure: it locks for 30 s while its password is checked.
    const [held, refused] = await heldThenRefused(
      servers(),
      () => signIn(a(), email, PASSWORD),
      () => signIn(b(), email, PASSWORD),
    );
    expect(held.status, held.text).toBe(200);
    expectLocked(refused);
    expect(retryAfter(refused)).toBe(1);
    expect(refused.body.error_description).toMatch(/\(failed or still being checked\); try again in 1 s$/);
    // The lock went with the success that held it.
    expect((await signIn(b(), email, PASSWORD)).status).toBe(200);
  });

  it('at the end of a lock: right passwords at once are told the lock that stood (none), not the escalated one their reservation set', async () => {
    const email = newEmail('boundary');
    await signUp(a(), email, PASSWORD);
    for (const guess of ['guess 1', 'guess 2']) expect((await signIn(a(), email, guess)).status).toBe(401);
    const locked = await signIn(b(), email, PASSWORD);
    expectLocked(locked);
    expect(retryAfter(locked)).toBe(30);
    advance(30_001);
    // The first attempt's reservation is the third failure (60 s lock) while it is checked.
    const [held, refused] = await heldThenRefused(
      servers(),
      () => signIn(a(), email, PASSWORD),
      () => signIn(b(), email, PASSWORD),
    );
    expect(held.status, held.text).toBe(200);
    expectLocked(refused);
    expect(retryAfter(refused)).toBe(1);
    // No escalation left behind: the success took its reservation's lock back.
    expect((await signIn(a(), email, PASSWORD)).status).toBe(200);
  });

  it('during a lock: right passwords are refused with its remaining time, and neither extend nor escalate it', async () => {
    const email = newEmail('mid-lock');
    await signUp(a(), email, PASSWORD);
    for (const guess of ['guess 1', 'guess 2']) expect((await signIn(a(), email, guess)).status).toBe(401);
    advance(10_000);
    const answers = await Promise.all([a(), b(), a(), b()].map((s) => signIn(s, email, PASSWORD)));
    for (const res of answers) {
      expectLocked(res);
      expect(retryAfter(res)).toBe(20);
    }
    advance(20_001);
    expect((await signIn(b(), email, PASSWORD)).status).toBe(200);
  });

  it('a wrong password held at its check: the attempt refused meanwhile has no wait to add; once it has failed, its lock is quoted in full', async () => {
    const email = newEmail('held-guess');
    await signUp(a(), email, PASSWORD);
    expect((await signIn(a(), email, 'guess 1')).status).toBe(401);
    const [held, refused] = await heldThenRefused(
      servers(),
      () => signIn(a(), email, 'guess 2'),
      () => signIn(b(), email, PASSWORD),
    );
    expect(held.status, held.text).toBe(401);
    expectLocked(refused);
    expect(retryAfter(refused)).toBe(1);
    // The guess failed: its lock stands, and is what the next attempt is told.
    for (const server of servers()) {
      const after = await signIn(server, email, PASSWORD);
      expectLocked(after);
      expect(retryAfter(after)).toBe(30);
    }
  });

  it('an expired lock escalated by a held wrong password: the refusal meanwhile has no wait to add; after it failed, the escalated lock in full', async () => {
    const email = newEmail('held-guess-boundary');
    await signUp(a(), email, PASSWORD);
    for (const guess of ['guess 1', 'guess 2']) expect((await signIn(a(), email, guess)).status).toBe(401);
    advance(30_001);
    const [held, refused] = await heldThenRefused(
      servers(),
      () => signIn(a(), email, 'guess 3'),
      () => signIn(b(), email, PASSWORD),
    );
    expect(held.status, held.text).toBe(401);
    expect(retryAfter(refused)).toBe(1);
    const after = await signIn(b(), email, PASSWORD);
    expectLocked(after);
    expect(retryAfter(after)).toBe(60);
  });
}

describe('Retry-After of a lock set by attempts still being checked (SQLite)', () => {
  let now = Date.UTC(2031, 2, 1, 8, 0, 0);
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(SETTINGS, { clock: () => now });
  });
  afterAll(async () => {
    await server?.close();
  });
  suite(() => ({
    servers: () => [server],
    advance: (ms) => {
      now += ms;
    },
  }));
});

const clusterAvailable = await clusterBackendsAvailable('Retry-After of a lock being checked');

describe.runIf(clusterAvailable)(
  'Retry-After of a lock set by attempts still being checked (two instances, one PostgreSQL)',
  () => {
    let now = Date.UTC(2031, 2, 1, 8, 0, 0);
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await startCluster(SETTINGS, { clock: () => now });
    });
    afterAll(async () => {
      await cluster?.close();
    });
    suite(() => ({
      servers: () => cluster.instances,
      advance: (ms) => {
        now += ms;
      },
    }));
  },
);
