/**
 * Jot installs outside the monorepo (issue 8): every publishable package (each workspace not marked private) is
 * packed with `npm pack`, installed from those tarballs into an empty project (offline from npm's cache), and there
 * `npx jot serve` starts a working server on SQLite — register, login, JWKS and the web UI answer — while
 * `@jot/verify`, `@jot/jose` and `@jot/client` import and work from the installed copies. SIGTERM to the process
 * group stops it cleanly.
 *
 * Needs the build (`npm run build`; `npm test` runs it first) and fails saying so without it. One native step is
 * served locally: better-sqlite3's install script (prebuild-install) would download a prebuilt binding from GitHub,
 * which CI cannot reach, and compiling SQLite instead takes minutes; the test hands it the binding the workspace
 * install built for this same version and Node ABI through prebuild-install's own `local-prebuilds` option.
 */
import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Every workspace package that is not private is published, so each must install (a new one is covered too). */
const PUBLISHED = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }
).workspaces
  .map(
    (dir) =>
      JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as {
        name: string;
        private?: boolean;
      },
  )
  .filter((pkg) => pkg.private !== true)
  .map((pkg) => pkg.name.replace(/^@jot\//, ''));
const PASSWORD = 'correct horse battery';

/** The environment for npm and the server: ours, minus what an enclosing `npm test` exported. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|JOT_|NODE_ENV$|INIT_CWD$)/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const address = probe.address();
  await new Promise<void>((done) => probe.close(() => done()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

function missingBuild(): string[] {
  const missing = PUBLISHED.map((name) => `packages/${name}/dist/index.js`).filter(
    (path) => !existsSync(join(ROOT, path)),
  );
  if (!existsSync(join(ROOT, 'packages/web/dist/index.html'))) missing.push('packages/web/dist/index.html');
  return missing;
}

let work: string;
let project: string;
let tarballs: string[];

beforeAll(async () => {
  const missing = missingBuild();
  if (missing.length > 0) {
    throw new Error(`run \`npm run build\` first (npm test does): missing ${missing.join(', ')}`);
  }
  work = mkdtempSync(join(tmpdir(), 'jot-packed-'));
  const packs = join(work, 'packs');
  mkdirSync(packs);
  await run(
    'npm',
    ['pack', ...PUBLISHED.flatMap((name) => ['-w', `@jot/${name}`]), '--pack-destination', packs],
    { cwd: ROOT, env: cleanEnv(), timeout: 120_000 },
  );
  tarballs = readdirSync(packs)
    .filter((name) => name.endsWith('.tgz'))
    .map((name) => join(packs, name));

  const sqlite = join(ROOT, 'node_modules/better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(sqlite, 'package.json'), 'utf8')) as { version: string };
  const prebuilds = join(work, 'prebuilds');
  mkdirSync(prebuilds);
  await run('tar', [
    'czf',
    join(
      prebuilds,
      `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`,
    ),
    '-C',
    sqlite,
    'build/Release/better_sqlite3.node',
  ]);

  project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'uses-jot', private: true, type: 'module' }),
  );
  await run('npm', ['install', ...tarballs, '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: project,
    env: cleanEnv({ npm_config_better_sqlite3_local_prebuilds: prebuilds }),
    timeout: 240_000,
  });
}, 400_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the packed packages', () => {
  it('are every publishable package, without build leftovers, the server carrying the web UI', async () => {
    expect(PUBLISHED).toEqual(
      expect.arrayContaining(['contract', 'jose', 'server', 'verify', 'client', 'cli']),
    );
    expect(tarballs.map((path) => path.split('/').pop()).sort()).toEqual(
      PUBLISHED.map((name) => `jot-${name}-0.1.0.tgz`).sort(),
    );
    const server = (await run('tar', ['tzf', tarballs.find((t) => t.includes('jot-server'))!])).stdout;
    expect(server).toContain('package/dist/bin/jot-server.js');
    expect(server).toContain('package/web/index.html');
    expect(server).not.toMatch(/tsbuildinfo|package\/test\//);
    const installed = JSON.parse(
      readFileSync(join(project, 'node_modules/@jot/cli/package.json'), 'utf8'),
    ) as { dependencies: Record<string, string> };
    // Workspace packages depend on each other by version, so npm resolves them from the tarballs.
    expect(installed.dependencies['@jot/server']).toBe('0.1.0');
  });

  it('import and work from the installed copies', async () => {
    const script = `
      import { createSigner, decodeUnverified, generateKeyPair } from '@jot/jose';
      import { createVerifier } from '@jot/verify';
      import * as client from '@jot/client';
      import { createServer } from '@jot/server';
      const token = createSigner(generateKeyPair('ES256'))({ sub: 'someone' });
      console.log(JSON.stringify({
        sub: decodeUnverified(token).payload.sub,
        verify: typeof createVerifier,
        client: Object.keys(client).length > 0,
        server: typeof createServer,
      }));
    `;
    const { stdout } = await run('node', ['--input-type=module', '-e', script], {
      cwd: project,
      env: cleanEnv(),
    });
    expect(JSON.parse(stdout)).toEqual({
      sub: 'someone',
      verify: 'function',
      client: true,
      server: 'function',
    });
  });

  it('`npx jot serve` starts a working server on SQLite, and shuts down cleanly on SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn('npx', ['jot', 'serve'], {
      cwd: project,
      env: cleanEnv({ JOT_PORT: String(port), JOT_ISSUER: url, JOT_LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a terminal's Ctrl-C or systemd's stop signals npx and the server together.
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // 'close': npx and the server it started (which shares its output pipes) are both gone.
    const closed = new Promise<void>((done) => child.once('close', () => done()));
    try {
      const deadline = Date.now() + 60_000;
      while (
        !(await fetch(`${url}/readyz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`jot serve did not start:\n${output}`);
        await new Promise((done) => setTimeout(done, 100));
      }
      const json = { 'content-type': 'application/json' };
      const body = JSON.stringify({ email: 'first@example.com', password: PASSWORD });
      expect((await fetch(`${url}/api/register`, { method: 'POST', headers: json, body })).status).toBe(201);
      const login = await fetch(`${url}/api/login`, { method: 'POST', headers: json, body });
      expect(login.status).toBe(200);
      const { access_token: token } = (await login.json()) as { access_token: string };
      const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: unknown[] };
      expect(jwks.keys.length).toBeGreaterThan(0);
      const whoami = await fetch(`${url}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });
      expect(whoami.status).toBe(200);
      // A resource server built on the installed @jot/verify accepts the token (discovery, JWKS, checks).
      const verified = await run(
        'node',
        [
          '--input-type=module',
          '-e',
          `import { createVerifier } from '@jot/verify';
           const v = createVerifier({ issuer: process.env.ISSUER, audience: process.env.ISSUER, revocation: 'none' });
           const claims = await v.verify(process.env.TOKEN);
           console.log(claims.sub);
           await v.close();`,
        ],
        { cwd: project, env: cleanEnv({ ISSUER: url, TOKEN: token }) },
      );
      expect(verified.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
      const page = await (await fetch(`${url}/`)).text();
      expect(page).toContain('<script type="module"');
      expect(page).not.toContain('not built');
      expect(existsSync(join(project, 'data', 'jot.db'))).toBe(true);

      process.kill(-child.pid!, 'SIGTERM');
      await closed;
      // npx itself dies of the signal; the server drains and closes (its exit code is tested in server.test.ts).
      expect(output).toContain('SIGTERM: shutting down');
      expect(output).toMatch(/"abandoned":0,"closed":true,"msg":"shut down"/);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 120_000);
});
