/** docs/cli.md renders as written: every code fence is three backticks and closed, so no section is swallowed. */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');

describe('docs/cli.md', () => {
  it('opens and closes every code fence with three backticks', () => {
    const fences = doc.split('\n').filter((line) => /^\s*(`{3,}|~{3,})/.test(line));
    expect(fences.filter((line) => !/^\s*```(?!`)/.test(line))).toEqual([]);
    expect(fences.length % 2).toBe(0);
  });

  it('has every heading outside a code block', () => {
    let inFence = false;
    const swallowed: string[] = [];
    for (const line of doc.split('\n')) {
      if (/^\s*```/.test(line)) inFence = !inFence;
      else if (inFence && /^#{1,6} /.test(line)) swallowed.push(line);
    }
    expect(swallowed).toEqual([]);
  });
});
