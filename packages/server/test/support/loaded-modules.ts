/**
 * Which modules a Node process loads: it runs with a preload that registers an ESM loader hook (every `load`, as a
 * URL) and, as it exits, adds the require cache (CommonJS files, as paths). For tests that keep a dependency out of
 * a start-up (the server's import, the CLI's commands).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/** How the recorded process is run. */
export interface RecordedRun {
  /** Its working directory (default: a fresh temporary one). */
  cwd?: string;
  /** Its whole environment (default: PATH only). */
  env?: Record<string, string>;
}

/**
 * Runs `node <args>` with the recording preload and returns every file (path or URL) it loaded; rejects when the
 * process fails.
 */
export async function modulesLoadedBy(args: readonly string[], run: RecordedRun = {}): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'jot-loaded-modules-'));
  try {
    const list = join(dir, 'loaded.txt');
    const hooks = join(dir, 'hooks.mjs');
    const preload = join(dir, 'preload.mjs');
    writeFileSync(list, '');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(list)}, url + '\\n');
  return next(url, context);
}`,
    );
    // The require cache is read as the process exits (the CLI calls process.exit when a command is done).
    writeFileSync(
      preload,
      `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
process.on('exit', () => {
  appendFileSync(${JSON.stringify(list)}, Object.keys(createRequire(import.meta.url).cache).join('\\n') + '\\n');
});`,
    );
    await promisify(execFile)(process.execPath, ['--import', pathToFileURL(preload).href, ...args], {
      cwd: run.cwd ?? dir,
      env: run.env ?? { PATH: process.env.PATH ?? '' },
    });
    return readFileSync(list, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The npm package a loaded file belongs to (`@scope/name` or `name`), if it lies under node_modules. */
export const packageOf = (file: string): string | undefined =>
  /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];
