/**
 * Every error code is real three ways: docs/errors.md lists exactly the codes that exist in every package (a
 * missing or stale row fails), each code is raised by some source file (a code only declared is dead), and each is
 * asserted by at least one test (a code no test provokes may not behave as documented).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { ERROR_CODES } from '@jot/contract';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
const documented = new Set([...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)`/gm)].map((m) => m[1]!));

/** Every code of every package: the one registry in `@jot/contract`. */
const existing = new Set<string>(Object.values(ERROR_CODES).flat());

function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

const packages = readdirSync(join(root, 'packages'));
/** The text of every file under each package's `part` folder; this file itself, which names codes, left out. */
const read = (part: 'src' | 'test'): string[] =>
  packages
    .flatMap((p) => filesUnder(join(root, 'packages', p, part)))
    .filter((f) => f !== fileURLToPath(import.meta.url))
    .map((f) => readFileSync(f, 'utf8'));

/**
 * Source text as code that raises errors: comments and the registries that merely declare the codes (a
 * `…Code… =` type union, a `…_ERROR_CODES = [ … ]` list) are cut out, so only a use of the literal counts.
 */
const raisingSource = read('src')
  .map((text) =>
    text
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '')
      .replace(/export type \w*Code\w* =[\s\S]*?;\n/g, '')
      .replace(/_ERROR_CODES\b[^=]*= \[[\s\S]*?\]/g, ''),
  )
  .join('\n');
const testSource = read('test').join('\n');
const quoted = (code: string): RegExp => new RegExp(`['"\`]${code}['"\`]`);
// Tests also assert codes inside CLI output lines ("jot: ERR_CLI_USAGE: …"), so any whole-word mention counts.
const mentioned = (code: string): boolean => new RegExp(`\\b${code}\\b`).test(testSource);

/**
 * Codes known to fall short today, each with what is missing. The list may only shrink: a listed code that is
 * now raised and tested fails the last test below until it is taken off.
 */
const KNOWN_GAPS: Readonly<Record<string, { raised: boolean; tested: boolean; why: string }>> = {};

describe('docs/errors.md and the error codes', () => {
  it('documents every error code', () => {
    expect([...existing].filter((code) => !documented.has(code))).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    expect([...documented].filter((code) => !existing.has(code))).toEqual([]);
  });

  it('raises every code somewhere in the source', () => {
    const missing = [...existing].filter((code) => !quoted(code).test(raisingSource));
    expect(missing.filter((code) => KNOWN_GAPS[code]?.raised !== false)).toEqual([]);
  });

  it('asserts every code in at least one test', () => {
    const missing = [...existing].filter((code) => !mentioned(code));
    expect(missing.filter((code) => KNOWN_GAPS[code]?.tested !== false)).toEqual([]);
  });

  it('lists as known gaps only codes that still fall short, exactly as recorded', () => {
    const stale = Object.entries(KNOWN_GAPS).filter(
      ([code, gap]) =>
        !existing.has(code) ||
        gap.raised !== quoted(code).test(raisingSource) ||
        gap.tested !== mentioned(code),
    );
    expect(
      stale.map(([code]) => code),
      'update or remove these KNOWN_GAPS entries',
    ).toEqual([]);
  });
});
