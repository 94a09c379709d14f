/**
 * A small import scanner for the layering tests: every `import`/`export … from` and dynamic `import()` of a
 * TypeScript file, type-only ones included (a type cycle is still a cycle for a reader).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** One import of one file. */
export interface ImportEdge {
  /** The importing file, relative to the scanned root (POSIX separators). */
  from: string;
  /** The import specifier as written. */
  specifier: string;
  /** For a relative specifier: the imported file, relative to the root; undefined for a package import. */
  to: string | undefined;
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every `.ts` file under `dir` (recursively), skipping declaration files. */
export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Removes comments (block and line) so commented-out imports do not count. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** The imports of every `.ts` file under `root`. */
export function scanImports(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of tsFiles(root)) {
    const source = stripComments(readFileSync(file, 'utf8'));
    const from = relative(root, file).split(sep).join('/');
    for (const match of source.matchAll(IMPORT)) {
      const specifier = (match[1] ?? match[2])!;
      const to = specifier.startsWith('.')
        ? relative(root, resolve(dirname(file), specifier))
            .split(sep)
            .join('/')
            .replace(/\.js$/, '.ts')
        : undefined;
      edges.push({ from, specifier, to });
    }
  }
  return edges;
}

/** The cycles of a directed graph (each reported once, as the list of its nodes), by Tarjan's algorithm. */
export function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

/** Adds an edge to a graph held as a map of sets. */
export function addEdge(graph: Map<string, Set<string>>, from: string, to: string): void {
  let targets = graph.get(from);
  if (targets === undefined) graph.set(from, (targets = new Set()));
  targets.add(to);
  if (!graph.has(to)) graph.set(to, new Set());
}
