/**
 * The completeness marker's value is read the same by the server (whether to copy in full) and by strict verifiers
 * (whether to trust the mirror): what the server writes reads back whole, and anything else — not a JSON object, a
 * cursor that is not a number, a deployment that is not an id — is no marker to either.
 */
import { describe, expect, it } from 'vitest';

import { completenessMarkerValue, deploymentIdProblem, parseCompletenessMarker } from '../src/index.js';

const ID = 'Qx7_-abcdEFGH012';

describe('the completeness marker', () => {
  it("reads back what the server writes, and an earlier version's marker without a deployment", () => {
    const value = completenessMarkerValue({ cursor: 42, at: 1_700_000_000_000, deployment: ID });
    expect(parseCompletenessMarker(value)).toEqual({ cursor: 42, at: 1_700_000_000_000, deployment: ID });
    // An empty list has no cursor yet.
    expect(parseCompletenessMarker(completenessMarkerValue({ at: 1, deployment: ID }))).toEqual({
      at: 1,
      deployment: ID,
    });
    expect(parseCompletenessMarker('{"cursor":3,"at":1}')).toEqual({ cursor: 3, at: 1 });
  });

  it.each([
    null,
    undefined,
    '',
    'not json',
    '{"cursor":3',
    'null',
    '7',
    '"x"',
    '[3]',
    '{"cursor":"3"}',
    '{"deployment":7}',
    '{"deployment":"short"}',
  ])('reads %j as no marker', (raw) => {
    expect(parseCompletenessMarker(raw)).toBeUndefined();
  });

  it('takes a deployment id as the server derives it: 16 base64url characters', () => {
    expect(deploymentIdProblem(ID)).toBeUndefined();
    for (const bad of ['', ID.slice(1), `${ID}A`, 'Qx7+/abcdEFGH012', ` ${ID.slice(1)}`, 16, null]) {
      expect(deploymentIdProblem(bad), String(bad)).toMatch(/expected/);
    }
  });
});
