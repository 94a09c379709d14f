/**
 * The server reads top-down: routes (plugins/) → http/ → services/ → keys/ → config/ → store/, each layer importing
 * only downward, and no file imports itself back through others. The map is docs/architecture.md ("Inside the
 * server"); this test keeps it true.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { addEdge, cycles, scanImports } from './support/imports.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/**
 * The layers, top first. A unit is a folder under src/ or a file at its root; a unit may import units of layers
 * below its own, never above, and never another unit of its own layer.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['bin'],
  ['index.ts'],
  ['app.ts', 'admin-ops.ts', 'shutdown-on-signal.ts'], // the composition roots: the server, the CLI's operations, the signals that end a server
  ['bootstrap.ts', 'shutdown.ts', 'compose'], // compose/: the services and background work built from a Config
  ['plugins'], // routes
  ['http'], // HTTP mechanics: the error mapping, schemas, cookies, views, rate limits
  ['context.ts'], // the services every route shares (`app.jot`)
  ['services'], // the domain: raises DomainError, knows nothing of HTTP
  ['keys'],
  ['config'],
  ['store'],
  ['clock.ts'],
];

const RANK = new Map(LAYERS.flatMap((units, rank) => units.map((u) => [u, rank] as const)));

function unitOf(path: string): string {
  const slash = path.indexOf('/');
  return slash === -1 ? path : path.slice(0, slash);
}

const edges = scanImports(SRC);

describe('server import direction', () => {
  it('finds the imports it checks (the scanner is not blind)', () => {
    const relative = edges.filter((e) => e.to !== undefined);
    expect(relative.length).toBeGreaterThan(300);
    // A known downward import, to prove both ends are read right.
    expect(relative).toContainEqual(
      expect.objectContaining({ from: 'plugins/oauth.ts', to: 'http/oauth-form.ts' }),
    );
  });

  it('places every folder and root file of src/ in a layer', () => {
    const units = new Set(edges.flatMap((e) => [unitOf(e.from), ...(e.to ? [unitOf(e.to)] : [])]));
    expect([...units].filter((u) => !RANK.has(u))).toEqual([]);
  });

  it('imports only downward', () => {
    const upward = edges
      .filter((e) => e.to !== undefined && unitOf(e.from) !== unitOf(e.to))
      .filter((e) => RANK.get(unitOf(e.from))! >= RANK.get(unitOf(e.to!))!)
      .map((e) => `${e.from} imports ${e.to}`);
    expect(upward).toEqual([]);
  });

  it('has no import cycle between files (type-only imports included)', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) if (e.to !== undefined) addEdge(graph, e.from, e.to);
    expect(cycles(graph)).toEqual([]);
  });

  it('keeps Fastify out of the layers below http/ (only the logger type may cross)', () => {
    const below = new Set(['context.ts', 'services', 'keys', 'config', 'store', 'clock.ts']);
    const leaks = edges
      .filter((e) => below.has(unitOf(e.from)) && /^(fastify|@fastify\/)/.test(e.specifier))
      .filter((e) => {
        const source = readFileSync(`${SRC}${e.from}`, 'utf8');
        const typeOnlyLogger = new RegExp(
          `import type \\{ FastifyBaseLogger \\} from '${e.specifier}'|declare module '${e.specifier}'`,
        );
        return !typeOnlyLogger.test(source);
      })
      .map((e) => `${e.from} imports ${e.specifier}`);
    expect(leaks).toEqual([]);
  });
});

describe('the import scanner', () => {
  it('reports a cycle when there is one', () => {
    const graph = new Map<string, Set<string>>();
    addEdge(graph, 'a', 'b');
    addEdge(graph, 'b', 'c');
    addEdge(graph, 'c', 'a');
    addEdge(graph, 'c', 'd');
    expect(cycles(graph)).toEqual([['a', 'b', 'c']]);
  });
});
