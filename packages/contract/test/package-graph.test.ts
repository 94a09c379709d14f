/**
 * The package graph points one way: cli → server → verify → jose → contract, service → jose, web → client →
 * contract. Every `@jot/*` import in a package's src/ is a declared dependency, every edge is one of the allowed
 * ones, and there is no cycle (docs/architecture.md, "Packages").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { addEdge, cycles, scanImports } from '../../server/test/support/imports.js';

const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));

/** Which workspace packages each package may depend on (at run time; tests may use any). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  '@jot/cli': ['@jot/server', '@jot/verify', '@jot/service', '@jot/jose', '@jot/contract'],
  '@jot/server': ['@jot/verify', '@jot/jose', '@jot/contract'],
  '@jot/verify': ['@jot/jose', '@jot/contract'],
  '@jot/service': ['@jot/jose', '@jot/contract'],
  '@jot/jose': ['@jot/contract'],
  '@jot/web': ['@jot/client', '@jot/contract'],
  '@jot/client': ['@jot/contract'],
  '@jot/contract': [],
};

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const packages = readdirSync(PACKAGES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => {
    try {
      const manifest = JSON.parse(readFileSync(`${PACKAGES}${d.name}/package.json`, 'utf8')) as Manifest;
      return [{ dir: d.name, manifest }];
    } catch {
      return [];
    }
  });

function jotName(specifier: string): string | undefined {
  return /^@jot\/[a-z-]+/.exec(specifier)?.[0];
}

describe('package graph', () => {
  it('knows every workspace package', () => {
    expect(packages.map((p) => p.manifest.name).sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it('imports only declared, allowed workspace packages, and has no cycle', () => {
    const graph = new Map<string, Set<string>>();
    const problems: string[] = [];
    for (const { dir, manifest } of packages) {
      const declared = new Set(
        Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).filter((d) => jotName(d)),
      );
      for (const dep of declared) {
        addEdge(graph, manifest.name, dep);
        if (!ALLOWED[manifest.name]!.includes(dep)) problems.push(`${manifest.name} depends on ${dep}`);
      }
      for (const edge of scanImports(`${PACKAGES}${dir}/src`)) {
        const target = jotName(edge.specifier);
        if (target === undefined || target === manifest.name) continue;
        if (!declared.has(target)) problems.push(`${dir}/src/${edge.from} imports undeclared ${target}`);
      }
    }
    expect(problems).toEqual([]);
    expect(cycles(graph)).toEqual([]);
    // Not vacuous: the known edges are there.
    expect(graph.get('@jot/web')).toContain('@jot/client');
    expect(graph.get('@jot/cli')).toContain('@jot/server');
  });
});
