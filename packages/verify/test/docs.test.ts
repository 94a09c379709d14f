/**
 * docs/verify.md against the code: every @jot/verify code, every export and every default is documented, and the
 * doc names no code, export or default that does not exist.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

import { HEARTBEAT_MS } from '../../server/src/plugins/revocation-stream/wakeups.js';
import { FAILURE_REPORT_INTERVAL_MS, FAILURE_SETTLE_MS } from '../src/failure-log.js';
import { VERIFIER_DEFAULTS, VERIFY_ERROR_CODES } from '../src/index.js';

describe('docs/verify.md', () => {
  it('documents exactly the codes of VERIFY_ERROR_CODES in its table, and names no other ERR_VERIFY_ code', () => {
    const doc = readFileSync(new URL('../../../docs/verify.md', import.meta.url), 'utf8');
    const rows = new Set([...doc.matchAll(/^\| `(ERR_[A-Z_]+)`/gm)].map((m) => m[1]));
    expect([...rows].sort()).toEqual([...VERIFY_ERROR_CODES].sort());
    const mentioned = new Set(doc.match(/ERR_VERIFY_[A-Z_]+/g));
    expect([...mentioned].filter((code) => !rows.has(code))).toEqual([]);
  });

  it('states the real throttle of dependency-failure log lines', () => {
    const doc = readFileSync(new URL('../../../docs/verify.md', import.meta.url), 'utf8');
    expect(FAILURE_REPORT_INTERVAL_MS).toBe(60_000);
    expect(doc).toContain('at most one error line a minute per step');
    expect(doc).toContain(`with no failure for ${FAILURE_SETTLE_MS / 1000} s`);
  });

  it("states the server's real heartbeat interval wherever heartbeatTimeout is explained", () => {
    // Regression: the heartbeatTimeout comment said the server pings every 15 s; it sends a comment every 5 s.
    const seconds = HEARTBEAT_MS / 1000;
    const doc = readFileSync(new URL('../../../docs/verify.md', import.meta.url), 'utf8');
    const options = readFileSync(new URL('../src/options.ts', import.meta.url), 'utf8');
    expect(doc).toContain(`The server pings every ${seconds} s`);
    expect(options).toContain(`(a comment line every ${seconds} s)`);
    expect(options).not.toMatch(/ping interval\s*\*?\s*\(15 s\)/);
  });
});

/** The names `src/index.ts` exports, read from its syntax (it holds only `export { … } from` re-exports). */
function indexExports(): Set<string> {
  const file = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const names = new Set<string>();
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) continue;
    if (!ts.isExportDeclaration(statement) || statement.exportClause === undefined) {
      throw new Error(`index.ts: only named re-exports are expected, found: ${statement.getText(source)}`);
    }
    if (!ts.isNamedExports(statement.exportClause)) throw new Error('index.ts: no `export * as` expected');
    for (const element of statement.exportClause.elements) names.add(element.name.text);
  }
  return names;
}

function section(doc: string, heading: string): string {
  const start = doc.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`docs/verify.md has no "## ${heading}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end === -1 ? undefined : end);
}

/** The first cell of each body row of the section's table, split into its backticked names. */
function firstColumn(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => [...line.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

describe('docs/verify.md teaches exactly what @jot/verify exports', () => {
  const doc = readFileSync(new URL('../../../docs/verify.md', import.meta.url), 'utf8');

  it('lists every export of src/index.ts under "Exports", and nothing that is not exported', () => {
    const listed = firstColumn(section(doc, 'Exports')).flat();
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...indexExports()].sort());
  });

  it('exports at run time only names the index declares (no stray value export)', async () => {
    const runtime = Object.keys(await import('../src/index.js'));
    const declared = indexExports();
    expect(runtime.filter((name) => !declared.has(name))).toEqual([]);
  });

  it("imports in the doc's examples name only real exports", () => {
    const exported = indexExports();
    const imported = [...doc.matchAll(/import \{([^}]*)\} from '@jot\/verify'/g)].flatMap((m) =>
      m[1]!
        .split(',')
        .map((name) => name.trim().replace(/^type\s+/, ''))
        .filter((name) => name.length > 0),
    );
    expect(imported.length).toBeGreaterThan(5);
    expect(imported.filter((name) => !exported.has(name))).toEqual([]);
  });
});

/** `VERIFIER_DEFAULTS` flattened to `path → value as written in the doc` (`'30s'`, `8192`, `['a', 'b']`). */
function flatten(value: unknown, path: string, into: Map<string, string>): Map<string, string> {
  const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : String(v));
  if (Array.isArray(value)) into.set(path, `[${value.map(show).join(', ')}]`);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value))
      flatten(inner, path === '' ? key : `${path}.${key}`, into);
  } else into.set(path, show(value));
  return into;
}

describe('VERIFIER_DEFAULTS', () => {
  it('is the table under "Defaults" in docs/verify.md, key for key and value for value', () => {
    const doc = readFileSync(new URL('../../../docs/verify.md', import.meta.url), 'utf8');
    const rows = section(doc, 'Defaults')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => line.split('|').map((cell) => cell.trim().replace(/^`|`$/g, '')))
      .map((cells) => [cells[1]!, cells[2]!] as const);
    expect(new Map(rows)).toEqual(flatten(VERIFIER_DEFAULTS, '', new Map()));
  });

  it('is frozen all the way down, so no caller can change a default for everyone', () => {
    expect(Object.isFrozen(VERIFIER_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(VERIFIER_DEFAULTS.jwks)).toBe(true);
    expect(Object.isFrozen(VERIFIER_DEFAULTS.replicated.reconnectDelay)).toBe(true);
    expect(Object.isFrozen(VERIFIER_DEFAULTS.cookies)).toBe(true);
    expect(Object.isFrozen(VERIFIER_DEFAULTS.algorithms)).toBe(true);
  });
});
