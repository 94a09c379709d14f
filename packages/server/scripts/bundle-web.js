#!/usr/bin/env node
/**
 * `prepack` of @jot/server: copies the built web UI (`packages/web/dist`, from `npm run build`) into `web/`, so the
 * published package serves the UI without the private @jot/web workspace. Refuses to pack without it.
 */
import { cpSync, existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = resolve(root, '../web/dist');
const target = join(root, 'web');

if (!existsSync(join(source, 'index.html'))) {
  process.stderr.write(
    `@jot/server prepack: ${source} is missing; run \`npm run build\` at the repository root first\n`,
  );
  process.exit(1);
}
if (!existsSync(join(root, 'dist', 'index.js'))) {
  process.stderr.write(
    '@jot/server prepack: dist/ is missing; run `npm run build` at the repository root first\n',
  );
  process.exit(1);
}
rmSync(target, { recursive: true, force: true });
cpSync(source, target, { recursive: true });
