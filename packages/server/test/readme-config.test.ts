/** The README's configuration table tells the truth: every variable exists, with the default docs/config.md gives. */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ENV_VARS } from '../src/config/index.js';

function rows(markdown: string): Map<string, string> {
  const table = new Map<string, string>();
  for (const match of markdown.matchAll(/^\|\s*`((?:JOT_|NODE_ENV)[A-Z_]*)`\s*\|(.*)$/gm)) {
    const cells = match[2]!.split('|').map((cell) => cell.trim());
    // docs/config.md: | var | file key | default | meaning |; README: | var | default | meaning |
    if (!table.has(match[1]!)) table.set(match[1]!, cells.length >= 4 ? cells[1]! : cells[0]!);
  }
  return table;
}

const readme = rows(readFileSync(new URL('../../../README.md', import.meta.url), 'utf8'));
const reference = rows(readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8'));

describe('README configuration table', () => {
  it('lists real settings only', () => {
    const known = new Set<string>(Object.values(ENV_VARS));
    expect(readme.size).toBeGreaterThan(5);
    expect([...readme.keys()].filter((name) => !known.has(name))).toEqual([]);
  });

  it('gives the same defaults as docs/config.md', () => {
    for (const [name, fallback] of readme)
      expect({ name, fallback }).toEqual({ name, fallback: reference.get(name) });
  });
});
