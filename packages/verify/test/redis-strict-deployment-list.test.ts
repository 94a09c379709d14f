/**
 * `revocation.deployment` as a list: a new `JOT_KEK` or `JOT_ISSUER` gives the servers a new deployment id, and a
 * verifier given only the old one refuses the new servers' marker until it is reconfigured. Listing both ids before
 * the servers move (then dropping the old one) keeps the verifier trusting its own deployment throughout. Every listed
 * id is trusted, no other; the refusal's log line names them all and `stats()` shows the list. A list that is empty,
 * holds something other than ids, or holds `'pin'` is a `TypeError` when the verifier is built.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';

import { AUDIENCE } from '../../../test-support/fake-issuer.js';
import {
  createVerifier,
  type RevocationStats,
  type StrictRevocationOptions,
  type Verifier,
  type VerifierOptions,
} from '../src/index.js';
import { dataLogger, type DataLogger } from './support/data-logger.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';
import { outcomeOf } from './support/outcome.js';

/** Deployment ids (16 base64url characters): the old one, the new one after a key change, and a stranger's. */
const OLD = 'OOOOoooo0000____';
const NEW = 'NNNNnnnn1111----';
const OTHER = 'XXXXxxxx2222_-_-';
const marker = (deployment?: string): string =>
  JSON.stringify({ cursor: 7, at: Date.now(), ...(deployment === undefined ? {} : { deployment }) });
const REFUSED = 'ERR_VERIFY_REVOCATION_REFUSED deployment';

const harness = useIssuerVerifier();

/** A verifier over a Redis that answers nothing revoked and `current.marker` as the marker. */
function build(deployment: unknown, logger: DataLogger = dataLogger()) {
  const current = { marker: marker(OLD) };
  const v = harness.build({
    revocation: {
      strategy: 'strict',
      redis: { mget: () => Promise.resolve([null, null, null, current.marker]) },
      deployment: deployment as string | readonly string[],
    },
    logger,
  });
  return { v, current, logger };
}

const outcome = (v: Verifier): Promise<string> => outcomeOf(v.verify(harness.issuer.tokens.sign()));

describe('revocation.deployment as a list of ids', () => {
  it("trusts a marker of any listed deployment and refuses another's, naming every trusted id in its log", async () => {
    const { v, current, logger } = build([OLD, NEW]);
    expect(await outcome(v)).toBe('accepted');
    current.marker = marker(NEW);
    expect(await outcome(v)).toBe('accepted');
    current.marker = marker(OLD);
    expect(await outcome(v)).toBe('accepted');

    current.marker = marker(OTHER);
    expect(await outcome(v)).toBe(REFUSED);
    // An earlier version's marker names no deployment: none of the listed ones either.
    current.marker = marker();
    expect(await outcome(v)).toBe(REFUSED);

    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain(`"${OTHER}"`);
    expect(errors[0]!.message).toContain(
      `any of the deployments "${OLD}", "${NEW}" of revocation.deployment`,
    );
    expect(errors[0]!.message).toMatch(/add the new id to revocation\.deployment/);
    expect(errors[0]!.data).toMatchObject({ deployment: [OLD, NEW], markerDeployment: OTHER });
    expect(v.stats().revocation.lastError).toContain(`"${NEW}"`);
  });

  it('shows the list in stats(), frozen, and is not changed by the caller changing its array', async () => {
    const ids = [OLD, NEW];
    const { v, current } = build(ids);
    ids.push(OTHER);
    ids[0] = OTHER;
    current.marker = marker(OTHER);
    expect(await outcome(v)).toBe(REFUSED);
    current.marker = marker(OLD);
    expect(await outcome(v)).toBe('accepted');

    const shown = v.stats().revocation.deployment;
    expect(shown).toEqual([OLD, NEW]);
    expect(Object.isFrozen(shown)).toBe(true);
    expect(() => (shown as string[]).push(OTHER)).toThrow(TypeError);
    current.marker = marker(OTHER);
    expect(await outcome(v)).toBe(REFUSED);
  });

  it('walks a key change through: add the new id, roll the servers, drop the old one', async () => {
    // Before: the verifiers trust the old id alone and refuse the new servers' marker.
    const before = build(OLD);
    before.current.marker = marker(NEW);
    expect(await outcome(before.v)).toBe(REFUSED);
    expect(before.v.stats().revocation.deployment).toBe(OLD);
    // Step 1: both ids. The servers roll (the marker is the old or the new deployment's, in turn): always trusted.
    const during = build([OLD, NEW]);
    for (const id of [OLD, NEW, OLD, NEW]) {
      during.current.marker = marker(id);
      expect(await outcome(during.v)).toBe('accepted');
    }
    // Step 2: the old id dropped once no server writes as it: an old marker is no longer trusted.
    const after = build([NEW]);
    after.current.marker = marker(NEW);
    expect(await outcome(after.v)).toBe('accepted');
    after.current.marker = marker(OLD);
    expect(await outcome(after.v)).toBe(REFUSED);
    expect(after.v.stats().revocation.deployment).toEqual([NEW]);
  });

  it('with one id given as a string, still names it alone and shows it as a string', async () => {
    const { v, current, logger } = build(OLD);
    current.marker = marker(OTHER);
    expect(await outcome(v)).toBe(REFUSED);
    const error = logger.lines.find((l) => l.level === 'error');
    expect(error?.message).toContain(`the deployment "${OLD}" of revocation.deployment`);
    expect(error?.data).toMatchObject({ deployment: OLD });
    expect(v.stats().revocation.deployment).toBe(OLD);
  });
});

describe('revocation.deployment as a list: misuse is a TypeError when the verifier is built', () => {
  const make = (deployment: unknown) => () =>
    createVerifier({
      issuer: 'http://jot.test',
      audience: AUDIENCE,
      jwksUri: 'http://127.0.0.1:9/jwks.json',
      revocation: {
        strategy: 'strict',
        redis: { mget: () => Promise.resolve([null, null, null, null]) },
        deployment,
      } as VerifierOptions['revocation'],
      logger: dataLogger(),
    });
  const option = /"revocation.deployment" \(the server's deployment id\)/;

  it('refuses an empty list: it would trust no mirror', () => {
    expect(make([])).toThrow(TypeError);
    expect(make([])).toThrow(option);
    expect(make([])).toThrow(/empty list trusts no mirror/);
  });

  it("refuses 'pin' inside a list", () => {
    expect(make([OLD, 'pin'])).toThrow(TypeError);
    expect(make([OLD, 'pin'])).toThrow(/'pin' cannot be in a list \(at index 1\)/);
    expect(make(['pin'])).toThrow(/'pin' cannot be in a list \(at index 0\)/);
  });

  it('refuses an element that is not a deployment id, naming its index', () => {
    for (const bad of [7, null, undefined, '', 'x'.repeat(43), ` ${NEW}`, [NEW]]) {
      expect(make([OLD, bad]), String(bad)).toThrow(TypeError);
      expect(make([OLD, bad]), String(bad)).toThrow(option);
      expect(make([OLD, bad]), String(bad)).toThrow(/at index 1/);
    }
  });

  it('refuses a list without redis, as a single id', () => {
    expect(() =>
      createVerifier({
        issuer: 'http://jot.test',
        audience: AUDIENCE,
        revocation: { strategy: 'strict', secret: 'introspection-secret', deployment: [OLD] } as never,
      }),
    ).toThrow(/"revocation.deployment".*it needs "redis"/);
  });

  it('accepts one id, a list of ids (a readonly one too) and pin alone', () => {
    const frozen = [OLD, NEW] as const;
    for (const good of [OLD, [OLD], [OLD, NEW], frozen, 'pin']) expect(make(good)).not.toThrow();
  });

  it('types the option and the stat as one id or a readonly list of ids', () => {
    type RedisOptions = Extract<StrictRevocationOptions, { redis: unknown }>;
    expectTypeOf<RedisOptions['deployment']>().toEqualTypeOf<string | readonly string[] | undefined>();
    expectTypeOf<RevocationStats['deployment']>().toEqualTypeOf<string | readonly string[] | undefined>();
  });
});
