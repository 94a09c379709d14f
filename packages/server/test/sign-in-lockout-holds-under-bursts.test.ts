/**
 * The per-account sign-in lock (`JOT_LOGIN_LOCKOUT`) under bursts: N wrong passwords for one account sent at once,
 * each from its own address, get at most the budget's worth of password checks — the rest are refused with 429
 * `ERR_LOGIN_LOCKED` without one — because each attempt is counted before its password is checked, in one atomic
 * upsert with the lock. N right ones are held the same way, and their refusal says the attempts may still be being
 * checked rather than failed. On SQLite (one instance), and on two instances over one PostgreSQL database. The password
 * checks are held at a gate until every request of the burst has reached one or been answered (support/
 * password-gate.ts), so all are in flight at once on any machine; one burst also runs with production argon2 costs
 * and no gate. Counts, not times.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { clusterBackendsAvailable, startCluster, type Cluster } from './support/cluster.js';
import { PASSWORD, deviceOf, expectLocked, signIn } from './support/devices.js';
import { signUp, startServer, type TestResponse, type TestServer } from './support/jot-server.js';
import { gatePasswordChecks } from './support/password-gate.js';

/** Free failures of the servers here (`JOT_LOGIN_LOCKOUT` `2/30s`). */
const BUDGET = 2;
const ATTEMPTS = 40;
const SETTINGS = { loginLockout: `${BUDGET}/30s`, trustProxy: true, rateLimitAuth: '100000/min' };

let nextAccount = 0;
const newEmail = (what: string): string => `${what}-${Date.now()}-${nextAccount++}@example.com`;

/**
 * Sends {@link ATTEMPTS} passwords for `email` at once — wrong ones unless `password` says otherwise — (attempt i to
 * instance i mod N, each from a fresh address, with `cookie` when given) through a gate on the checks; returns the
 * answers and how many were checked.
 */
async function burst(
  servers: readonly TestServer[],
  email: string,
  {
    cookie,
    password = (i) => `wrong guess ${i}`,
  }: { cookie?: string; password?: (i: number) => string } = {},
): Promise<{ answers: TestResponse[]; checked: number }> {
  const gate = gatePasswordChecks(servers, ATTEMPTS);
  try {
    const answers = await Promise.all(
      Array.from({ length: ATTEMPTS }, (_, i) =>
        gate.send(() => signIn(servers[i % servers.length]!, email, password(i), { cookie })),
      ),
    );
    return { answers, checked: gate.checked };
  } finally {
    gate.restore();
  }
}

/** Exactly the budget's worth checked (401), every other attempt refused unchecked (429 ERR_LOGIN_LOCKED). */
function expectBudgetHeld({ answers, checked }: { answers: TestResponse[]; checked: number }): void {
  const statuses = answers.map((res) => res.status);
  expect(checked, `statuses: ${statuses.join(',')}`).toBe(BUDGET);
  expect(statuses.filter((status) => status === 401)).toHaveLength(BUDGET);
  const refused = answers.filter((res) => res.status !== 401);
  expect(refused).toHaveLength(ATTEMPTS - BUDGET);
  for (const res of refused) expectLocked(res);
}

/**
 * The right password sent {@link ATTEMPTS} times at once: the budget's worth is checked and signs in, every other
 * attempt is refused unchecked (429 `ERR_LOGIN_LOCKED`) — and told the truth about why: no sign-in failed, the ones
 * that reached the limit were still being checked (the refusal once said "too many failed sign-ins for this
 * account"). Once those have succeeded, the lock their reservations set is gone.
 */
async function expectRightPasswordsHeld(servers: readonly TestServer[], email: string): Promise<void> {
  const { answers, checked } = await burst(servers, email, { password: () => PASSWORD });
  const statuses = answers.map((res) => res.status);
  expect(checked, `statuses: ${statuses.join(',')}`).toBe(BUDGET);
  expect(statuses.filter((status) => status === 200)).toHaveLength(BUDGET);
  const refused = answers.filter((res) => res.status !== 200);
  expect(refused).toHaveLength(ATTEMPTS - BUDGET);
  for (const res of refused) {
    expectLocked(res);
    expect(res.body.error_description).toMatch(
      /^too many sign-in attempts for this account \(failed or still being checked\); try again in \d+ s$/,
    );
  }
  for (const server of servers) expect((await signIn(server, email, PASSWORD)).status).toBe(200);
}

describe('bursts of sign-ins on one instance (SQLite)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(SETTINGS);
  });
  afterAll(async () => {
    await server.close();
  });

  it('a known account: only the budget is checked, the rest get 429 ERR_LOGIN_LOCKED, and the lock holds after', async () => {
    const email = newEmail('burst');
    await signUp(server, email, PASSWORD);
    expectBudgetHeld(await burst([server], email));
    // The right password is not checked while locked either.
    expectLocked(await signIn(server, email, PASSWORD));
  });

  it('an unknown address: the same — only the budget is checked (dummy checks), the rest refused', async () => {
    const email = newEmail('nobody');
    expectBudgetHeld(await burst([server], email));
    expectLocked(await signIn(server, email, PASSWORD));
  });

  it('with the device credential of an earlier sign-in: only the device’s budget is checked; it and the account end locked', async () => {
    const email = newEmail('device-burst');
    await signUp(server, email, PASSWORD);
    const device = await deviceOf(server, email);
    expectBudgetHeld(await burst([server], email, { cookie: device }));
    expectLocked(await signIn(server, email, PASSWORD, { cookie: device }));
    // The device's failures counted on the account too.
    expectLocked(await signIn(server, email, PASSWORD));
  });

  it('the right password sent at once past the budget: the rest are refused as attempts still being checked, not as failures', async () => {
    const email = newEmail('right-burst');
    await signUp(server, email, PASSWORD);
    await expectRightPasswordsHeld([server], email);
  });

  it('the owner’s success in the middle of a burst forgets the count up to it, not the attempts counted after it', async () => {
    const email = newEmail('owner-in-burst');
    await signUp(server, email, PASSWORD);
    const gate = gatePasswordChecks([server], ATTEMPTS + 1);
    try {
      // The owner's attempt is counted first and held at its check; then the burst.
      const owner = gate.send(() => signIn(server, email, PASSWORD));
      await gate.reached(1);
      const answers = await Promise.all(
        Array.from({ length: ATTEMPTS }, (_, i) => gate.send(() => signIn(server, email, `late guess ${i}`))),
      );
      expect((await owner).status).toBe(200);
      const statuses = answers.map((res) => res.status);
      // The owner's attempt took one of the budget: one guess was checked, every other refused unchecked.
      expect(gate.checked, statuses.join(',')).toBe(BUDGET);
      expect(statuses.filter((status) => status === 401)).toHaveLength(BUDGET - 1);
      for (const res of answers.filter((r) => r.status !== 401)) expectLocked(res);
    } finally {
      gate.restore();
    }
    // The owner's success did not wipe the guess counted after it, nor the lock that guess set.
    expectLocked(await signIn(server, email, PASSWORD));
  });
});

describe('a burst of wrong passwords with production argon2 costs, no gate (SQLite)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ ...SETTINGS, argon2MemoryKib: 19456, argon2TimeCost: 2 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('40 wrong passwords at once from 40 addresses: at most the budget is checked (401), the rest are 429', async () => {
    const email = newEmail('argon2-burst');
    await signUp(server, email, PASSWORD);
    const answers = await Promise.all(
      Array.from({ length: ATTEMPTS }, (_, i) => signIn(server, email, `wrong guess ${i}`)),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status === 401).length, statuses.join(',')).toBeLessThanOrEqual(
      BUDGET,
    );
    for (const res of answers.filter((r) => r.status !== 401)) expectLocked(res);
  });
});

const clusterAvailable = await clusterBackendsAvailable('sign-in lockout bursts across instances');

describe.runIf(clusterAvailable)('bursts of sign-ins on two instances (one PostgreSQL)', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(SETTINGS);
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('a known account: only the budget is checked across both instances, the rest refused on both', async () => {
    const [a, b] = cluster.instances as [TestServer, TestServer];
    const email = newEmail('cluster-burst');
    await signUp(a, email, PASSWORD);
    expectBudgetHeld(await burst(cluster.instances, email));
    expectLocked(await signIn(a, email, PASSWORD));
    expectLocked(await signIn(b, email, PASSWORD));
  });

  it('the right password sent at once to both instances: refused past the budget as attempts still being checked', async () => {
    const email = newEmail('cluster-right-burst');
    await signUp(cluster.instances[0]!, email, PASSWORD);
    await expectRightPasswordsHeld(cluster.instances, email);
  });

  it('an unknown address: the same across both instances', async () => {
    expectBudgetHeld(await burst(cluster.instances, newEmail('cluster-nobody')));
  });

  it('one device credential on both instances: only the device’s budget is checked', async () => {
    const [a, b] = cluster.instances as [TestServer, TestServer];
    const email = newEmail('cluster-device');
    await signUp(a, email, PASSWORD);
    const device = await deviceOf(b, email);
    expectBudgetHeld(await burst(cluster.instances, email, { cookie: device }));
    expectLocked(await signIn(a, email, PASSWORD, { cookie: device }));
    expectLocked(await signIn(b, email, PASSWORD));
  });
});
