/**
 * Vite build of the web UI into `packages/web/dist`, served by the Jot server at `/`. `@jot/client` and
 * `@jot/contract` resolve to their TypeScript sources so the UI always ships the code in this checkout.
 */
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  resolve: {
    alias: {
      '@jot/client': here('../client/src/index.ts'),
      '@jot/contract': here('../contract/src/index.ts'),
    },
  },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    // The server's CSP allows no inline script or style: keep every asset a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
