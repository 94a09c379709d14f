/**
 * The completeness marker is read on every strict Redis check but changes only when a server renews it, so its value
 * is parsed once and parsed again only when it changes (it was JSON-parsed on every request). What is remembered is
 * the parse, never the verdict: a marker of another deployment, or one that cannot be read, is refused on every check
 * (and logged at most once a minute), and a marker switching between trusted and foreign is judged afresh each time.
 */
import type * as contractModule from '@jot/contract';
import { parseCompletenessMarker, redisNames } from '@jot/contract';
import { describe, expect, it, vi } from 'vitest';

import type { Verifier } from '../src/index.js';
import { ForeignMarker, MarkerTrust, MirrorRefusal } from '../src/revocation/redis-marker.js';
import { dataLogger } from './support/data-logger.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';
import { outcomeOf } from './support/outcome.js';

// The real parser, counted: the verifier's own calls show whether it parses per request or per marker value.
vi.mock('@jot/contract', async (importOriginal) => {
  const contract = await importOriginal<typeof contractModule>();
  return { ...contract, parseCompletenessMarker: vi.fn(contract.parseCompletenessMarker) };
});

/** Two deployments' ids (16 base64url characters, the shape `deploymentId` gives). */
const A = 'AAAAaaaa0000____';
const B = 'BBBBbbbb1111----';
const marker = (deployment?: string, at = 1_700_000_000_000): string =>
  JSON.stringify({ cursor: 7, at, ...(deployment === undefined ? {} : { deployment }) });

/** A `MarkerTrust` whose parser is the real one, counted; `now` is its clock. */
function trust(deployment: string | readonly string[]) {
  const parse = vi.fn(parseCompletenessMarker);
  const logger = dataLogger();
  const clock = { now: 1_000_000 };
  const judge = new MarkerTrust({
    deployment,
    names: redisNames('jot'),
    clock: () => clock.now,
    logger,
    parse,
  });
  /** `trusted`, or the class of the refusal. */
  const verdict = (raw: string | null): string => {
    try {
      judge.check(raw);
      return 'trusted';
    } catch (err) {
      if (err instanceof ForeignMarker) return 'foreign';
      if (err instanceof MirrorRefusal) return 'refused';
      throw err;
    }
  };
  return { judge, parse, logger, clock, verdict };
}

describe('MarkerTrust parses a marker value once while it stays the same', () => {
  it('parses repeated identical values once, and a changed value afresh', () => {
    const t = trust(A);
    for (let i = 0; i < 5; i += 1) expect(t.verdict(marker(A))).toBe('trusted');
    expect(t.parse).toHaveBeenCalledTimes(1);
    // A renewal writes a new `at`: a new value, parsed again, then remembered in its turn.
    const renewed = marker(A, 1_700_000_001_000);
    for (let i = 0; i < 3; i += 1) expect(t.verdict(renewed)).toBe('trusted');
    expect(t.parse).toHaveBeenCalledTimes(2);
    expect(t.parse).toHaveBeenLastCalledWith(renewed);
  });

  it('refuses a foreign marker on every check, though it is parsed once, and logs it once a minute', () => {
    const t = trust(A);
    for (let i = 0; i < 4; i += 1) expect(t.verdict(marker(B))).toBe('foreign');
    expect(t.parse).toHaveBeenCalledTimes(1);
    expect(t.logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    t.clock.now += 59_999;
    expect(t.verdict(marker(B))).toBe('foreign');
    expect(t.logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    t.clock.now += 1;
    expect(t.verdict(marker(B))).toBe('foreign');
    expect(t.logger.lines.filter((l) => l.level === 'error')).toHaveLength(2);
    expect(t.parse).toHaveBeenCalledTimes(1);
  });

  it('refuses an unreadable marker on every check, though it is parsed once', () => {
    const t = trust(A);
    for (let i = 0; i < 3; i += 1) expect(t.verdict('{"deployment":"x"}')).toBe('refused');
    expect(t.parse).toHaveBeenCalledTimes(1);
    // Nothing remembered stands in for a missing marker.
    expect(t.verdict(null)).toBe('refused');
    expect(t.verdict(marker(A))).toBe('trusted');
    expect(t.verdict(null)).toBe('refused');
  });

  it('judges a marker switching trusted → foreign → trusted afresh each time: trust, refuse, trust', () => {
    const t = trust(A);
    const phases = [marker(A), marker(B), marker(A), marker(B), marker(A)];
    const verdicts = phases.map((raw) => [t.verdict(raw), t.verdict(raw)].join(' '));
    expect(verdicts).toEqual([
      'trusted trusted',
      'foreign foreign',
      'trusted trusted',
      'foreign foreign',
      'trusted trusted',
    ]);
    expect(t.parse).toHaveBeenCalledTimes(phases.length);
  });

  it("refuses an earlier version's marker once a deployment is pinned, though it was trusted before the pin", () => {
    const t = trust('pin');
    const unnamed = marker();
    expect([t.verdict(unnamed), t.verdict(unnamed)]).toEqual(['trusted', 'trusted']);
    expect(t.judge.deployment).toBeUndefined();
    expect(t.verdict(marker(A))).toBe('trusted');
    expect(t.judge.deployment).toBe(A);
    // The same value as before: its verdict was not remembered with its parse.
    expect([t.verdict(unnamed), t.verdict(unnamed)]).toEqual(['foreign', 'foreign']);
    expect(t.verdict(marker(B))).toBe('foreign');
    expect(t.judge.deployment).toBe(A);
  });
});

describe('a strict Redis verifier whose marker changes between requests', () => {
  const harness = useIssuerVerifier();
  const outcome = (v: Verifier): Promise<string> => outcomeOf(v.verify(harness.issuer.tokens.sign()));

  it.each([
    ['given', A],
    ['pinned', 'pin'],
    ['listed', [A]],
  ] as const)(
    'with the deployment %s, accepts, refuses and accepts again as the marker turns foreign and back',
    async (_, deployment) => {
      const current = { marker: marker(A) };
      const logger = dataLogger();
      const v = harness.build({
        revocation: {
          strategy: 'strict',
          redis: { mget: () => Promise.resolve([null, null, null, current.marker]) },
          deployment,
        },
        logger,
      });
      vi.mocked(parseCompletenessMarker).mockClear();
      const phase = async (value: string): Promise<string[]> => {
        current.marker = value;
        return [await outcome(v), await outcome(v), await outcome(v)];
      };
      const refused = 'ERR_VERIFY_REVOCATION_REFUSED deployment';
      expect(await phase(marker(A))).toEqual(['accepted', 'accepted', 'accepted']);
      expect(await phase(marker(B))).toEqual([refused, refused, refused]);
      expect(await phase(marker(A))).toEqual(['accepted', 'accepted', 'accepted']);
      expect(await phase(marker(B))).toEqual([refused, refused, refused]);
      expect(await phase('not json')).toEqual(Array(3).fill('ERR_VERIFY_REVOCATION_REFUSED redis'));
      expect(await phase(marker(A))).toEqual(['accepted', 'accepted', 'accepted']);
      // Eighteen requests, six marker values: six parses.
      expect(vi.mocked(parseCompletenessMarker)).toHaveBeenCalledTimes(6);
      // Six refusals of another deployment's marker within the minute: one error line.
      expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    },
  );
});
