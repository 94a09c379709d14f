/**
 * The revocation feed's cursor on the wire: `<id>.<tag>.<created>` as issued, read back as it was written; the
 * `<id>.<tag>` of the release before and the bare ids of the one before that still read (judged as they were, see
 * revocation-cursor-pruned-after-restore.test.ts); anything else is 400 `ERR_VALIDATION`, never a cursor that means
 * something else. The query schemas' length limit fits the longest cursor issued.
 */
import { describe, expect, it } from 'vitest';

import { CURSOR_MAX_LENGTH, parseCursor } from '../src/http/feed-wire.js';
import { formatCursor } from '../src/services/feed-wire.js';
import { feedCursorTag } from '../src/store/index.js';

const T0 = 1_800_000_000_000;
const TAG = feedCursorTag({ id: 43, kind: 'sid', subject: 's', createdAt: T0 });

describe('the feed cursor on the wire', () => {
  it('reads back what it writes: id, tag and creation time', () => {
    const cursor = { id: 43, tag: TAG, createdAt: T0 };
    const text = formatCursor(cursor);
    expect(text).toBe(`43.${TAG}.${T0.toString(36)}`);
    expect(parseCursor(text)).toEqual(cursor);
  });

  it('still reads the cursors of earlier releases, and writes one sent without a time back as it came', () => {
    expect(parseCursor(`43.${TAG}`)).toEqual({ id: 43, tag: TAG, createdAt: undefined });
    expect(formatCursor({ id: 43, tag: TAG })).toBe(`43.${TAG}`);
    expect(parseCursor('43')).toEqual({ id: 43, tag: undefined, createdAt: undefined });
    expect(formatCursor({ id: 43 })).toBe('43');
    expect(parseCursor(undefined)).toBeUndefined();
    expect(parseCursor('')).toBeUndefined();
  });

  it('refuses anything else with 400 ERR_VALIDATION', () => {
    for (const bad of [
      `43.${TAG}.`,
      `43.${TAG}.MZVX0XC0`,
      `43.${TAG}.${'1'.repeat(11)}`,
      `43..${T0.toString(36)}`,
      `43.${T0.toString(36)}`,
      `43.${TAG}.${T0.toString(36)}.x`,
      `43.${TAG}.-1`,
    ]) {
      expect(() => parseCursor(bad), bad).toThrow(
        expect.objectContaining({ statusCode: 400, code: 'ERR_VALIDATION' }),
      );
    }
  });

  it('fits the longest cursor it reads within the length the routes allow', () => {
    const longest = formatCursor({ id: 999_999_999_999_999, tag: TAG, createdAt: 36 ** 10 - 1 });
    expect(longest).toHaveLength(CURSOR_MAX_LENGTH);
    expect(parseCursor(longest)).toEqual({ id: 999_999_999_999_999, tag: TAG, createdAt: 36 ** 10 - 1 });
  });
});
