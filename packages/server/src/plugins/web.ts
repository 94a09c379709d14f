/**
 * Serves the built web UI at `/`: `packages/web/dist` in the repository, or the copy an installed `@jot/server`
 * carries in its `web/` folder (put there by `npm pack`). Files are read once at start and served from memory with
 * a strict Content-Security-Policy; any other GET outside `/api`, `/oauth` and `/.well-known` gets `index.html` (client-side
 * routes). When the UI is not built, `/` says how to build it. `index.html` gets `<meta>` elements (`WEB_UI_META`)
 * with the server's `JOT_TOKEN_MODE`, so the page's client renews its access token in single-token mode instead of
 * refreshing, and its `JOT_REGISTRATION`, so the sign-in page offers an account only when registration is open
 * (no inline script: the strict CSP stays).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { WEB_UI_META } from '@jot/contract';
import type { FastifyInstance, FastifyReply } from 'fastify';

import type { Config } from '../config/index.js';
import { noRoute } from '../http/allowed-methods.js';
import { HttpError } from '../http/errors.js';
import { echoed } from '../services/echoed.js';

/** The API's own spaces, where the UI's page is never the answer. */
const API_SPACES = /^\/(api|oauth|\.well-known)(\/|$)/i;

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Where the built UI lives, relative to this file in both `src/plugins` and `dist/plugins`: the repository's fresh
 * build first, else the copy packed into `@jot/server` (scripts/bundle-web.js).
 */
export const WEB_DIST =
  [resolve(HERE, '../../../web/dist'), resolve(HERE, '../../web')].find((dir) =>
    existsSync(join(dir, 'index.html')),
  ) ?? resolve(HERE, '../../../web/dist');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  immutable: boolean;
}

function loadAssets(root: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const url = '/' + relative(root, path).split(sep).join('/');
        assets.set(url, {
          body: readFileSync(path),
          type: TYPES[extname(name)] ?? 'application/octet-stream',
          immutable: url.startsWith('/assets/'),
        });
      }
    }
  };
  walk(root);
  return assets;
}

function send(reply: FastifyReply, asset: Asset): FastifyReply {
  reply.header('content-type', asset.type);
  reply.header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (asset.type.startsWith('text/html')) reply.header('content-security-policy', CSP);
  return reply.send(asset.body);
}

/** `index.html` with the server's token mode and registration in meta elements right after `<head>`. */
function withSettings(index: Asset, config: Pick<Config, 'tokenMode' | 'registration'>): Asset {
  const html = index.body.toString('utf8');
  // Both values come from closed lists; anything else is written as the safe default.
  const mode = config.tokenMode === 'single' ? 'single' : 'refresh';
  const registration = ['open', 'invite'].includes(config.registration) ? config.registration : 'closed';
  const meta =
    `<meta name="${WEB_UI_META.tokenMode}" content="${mode}" />` +
    `<meta name="${WEB_UI_META.registration}" content="${registration}" />`;
  return { ...index, body: Buffer.from(html.replace(/<head(\s[^>]*)?>/i, (head) => `${head}${meta}`)) };
}

/** Registers the UI routes. */
export async function webPlugin(app: FastifyInstance): Promise<void> {
  const assets = existsSync(join(WEB_DIST, 'index.html')) ? loadAssets(WEB_DIST) : new Map<string, Asset>();
  const built = assets.get('/index.html');
  const index = (built && withSettings(built, app.jot.config)) ?? {
    body: Buffer.from(
      '<!doctype html><title>Jot</title><main><h1>Jot</h1><p>The auth server is running. The web UI is not built: run <code>npm run build</code>.</p></main>',
    ),
    type: 'text/html; charset=utf-8',
    immutable: false,
  };
  if (built !== undefined) assets.set('/index.html', index);

  app.get('/', { schema: { hide: true } }, async (_request, reply) => send(reply, index));
  // The paths this catch-all serves (the route table's say for the 405 answer, http/allowed-methods.ts): a file of
  // the UI, or a client-side route — never in the API's own spaces, in any letter case (`/OAUTH/token` too).
  const serves = (path: string): boolean =>
    !API_SPACES.test(path) && (assets.has(path) || extname(path) === '');
  app.get('/*', { schema: { hide: true }, config: { serves } }, async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    // In the API's spaces: a JSON 404, or a 405 where the path takes other methods — never the web UI's page.
    if (API_SPACES.test(path)) throw noRoute(app, request.method, request.url);
    const asset = assets.get(path);
    if (asset !== undefined) return send(reply, asset);
    if (extname(path) !== '') throw new HttpError(404, 'ERR_NOT_FOUND', `no file ${echoed(path)}`);
    return send(reply, index);
  });
}
