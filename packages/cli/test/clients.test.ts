/**
 * `jot clients add|list|show|update|rotate-secret|remove` against a temporary SQLite data directory, with the
 * effects checked through the real server on the same database: a registered client gets tokens at /oauth/token, a
 * rotated secret replaces the old one at once, a removed client's tokens stop working, a client whose DPoP policy is
 * `required` gets none without a proof, a client's introspection policy decides whether it learns about another
 * client's token.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createServer, loadConfig } from '@jot/server';
import { errorLine, jot, serverEnv, tempDir } from './support.js';
import { keyPair } from '../../../test-support/key-pair.js';

const dataDir = tempDir();
const env = serverEnv(dataDir);
let app: FastifyInstance;

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

async function introspect(token: string, id: string, secret: string): Promise<unknown> {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/introspect',
    headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ token }).toString(),
  });
  return res.json();
}

async function clientCredentials(id: string, secret: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=client_credentials',
  });
  return { status: res.statusCode, body: res.json<{ access_token?: string; error?: string }>() };
}

beforeAll(async () => {
  app = await createServer({ config: loadConfig({ env, file: false }), logger: false });
});
afterAll(async () => {
  await app.close();
});

describe('jot clients', () => {
  it('adds a secret client whose secret is printed once and works at the token endpoint', async () => {
    const added = await jot(
      [
        'clients',
        'add',
        '--name',
        'Reports',
        '--id',
        'reports',
        '--auth',
        'client_secret_basic',
        '--scope',
        'orders:read',
        '--audience',
        'https://orders.internal',
        '--json',
      ],
      { env },
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const view = JSON.parse(added.stdout) as { client_id: string; client_secret: string; scopes: string[] };
    expect(view).toMatchObject({
      client_id: 'reports',
      scopes: ['orders:read'],
      grant_types: ['client_credentials'],
    });
    expect(view.client_secret).toMatch(/^[\w-]{43}$/);
    const ok = await clientCredentials('reports', view.client_secret);
    expect(ok.status).toBe(200);

    const shown = await jot(['clients', 'show', 'reports'], { env });
    expect(shown.stdout).toMatch(/client_id\s+reports/);
    expect(shown.stdout).not.toContain(view.client_secret);
    const listed = await jot(['clients', 'list'], { env });
    expect(listed.stdout).toMatch(/^jot\s+none/m);
    expect(listed.stdout).toMatch(/^reports\s+client_secret_basic\s+Reports$/m);

    const rotated = await jot(['clients', 'rotate-secret', 'reports', '--json'], { env });
    const fresh = (JSON.parse(rotated.stdout) as { client_secret: string }).client_secret;
    expect((await clientCredentials('reports', view.client_secret)).status).toBe(401);
    const token = await clientCredentials('reports', fresh);
    expect(token.status).toBe(200);

    expect(await app.jot.tokenStatus.active(token.body.access_token!)).toMatchObject({
      client_id: 'reports',
    });
    expect(errorLine(await jot(['clients', 'remove', 'reports'], { env }))).toMatch(/ERR_CLI_CONFIRM/);
    const removed = await jot(['clients', 'remove', 'reports', '--yes'], { env });
    expect(removed.code).toBe(0);
    expect((await clientCredentials('reports', fresh)).status).toBe(401);
    // The token issued before the removal is no longer active (the same check introspection makes).
    expect(await app.jot.tokenStatus.active(token.body.access_token!)).toBeUndefined();
  });

  it('adds a private_key_jwt client from a public key PEM, and refuses bad input with the reason', async () => {
    const dir = tempDir();
    const { publicKey, privateKey } = keyPair({ type: 'ec', namedCurve: 'P-256' });
    writeFileSync(join(dir, 'svc.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }).toString());
    writeFileSync(join(dir, 'svc.key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const addSvc = ['clients', 'add', '--name', 'Svc', '--id', 'svc', '--auth', 'private_key_jwt'];
    const added = await jot(
      [
        ...addSvc,
        '--public-key',
        'svc.pub.pem',
        '--grant',
        'client_credentials',
        '--grant',
        'token-exchange',
        '--audience',
        'https://a.internal',
        '--json',
      ],
      { env, cwd: dir },
    );
    expect(added.code).toBe(0);
    const view = JSON.parse(added.stdout) as {
      jwks: { keys: { kty: string; kid: string }[] };
      grant_types: string[];
    };
    expect(view.jwks.keys[0]).toMatchObject({ kty: 'EC', use: 'sig' });
    expect(view.grant_types).toContain('urn:ietf:params:oauth:grant-type:token-exchange');
    const privateRefused = await jot(
      ['clients', 'add', '--name', 'X', '--auth', 'private_key_jwt', '--public-key', 'svc.key.pem'],
      { env, cwd: dir },
    );
    expect(privateRefused.code).not.toBe(0);
    const noAudience = await jot(['clients', 'add', '--name', 'X', '--auth', 'client_secret_post'], { env });
    // The server's message names the registration field; the CLI names its own flag.
    expect(errorLine(noAudience)).toMatch(
      /ERR_CLI_USAGE: --audience: list the resource servers.*\(ERR_CLIENT_INVALID\)/,
    );
    const again = await jot([...addSvc, '--public-key', 'svc.pub.pem', '--audience', 'https://a.internal'], {
      env,
      cwd: dir,
    });
    expect(errorLine(again)).toMatch(/ERR_CLI_USAGE.*\(ERR_CLIENT_EXISTS\)/);
    const noSecret = await jot(['clients', 'rotate-secret', 'svc'], { env });
    expect(errorLine(noSecret)).toMatch(/ERR_CLI_USAGE.*private_key_jwt.*\(ERR_CLIENT_NO_SECRET\)/);
    const missing = await jot(['clients', 'show', 'nope'], { env });
    expect(errorLine(missing)).toMatch(/ERR_CLI_NOT_FOUND/);
    const firstParty = await jot(['clients', 'remove', 'jot', '--yes'], { env });
    expect(errorLine(firstParty)).toMatch(/ERR_CLIENT_PROTECTED/);
  });

  it('sets the DPoP policy at registration and with update; a required client gets no token without a proof', async () => {
    const added = await jot(
      [
        'clients',
        'add',
        '--name',
        'Strict',
        '--id',
        'strict',
        '--auth',
        'client_secret_basic',
        '--audience',
        'https://orders.internal',
        '--dpop',
        'required',
        '--json',
      ],
      { env },
    );
    expect(added.code).toBe(0);
    const view = JSON.parse(added.stdout) as { client_secret: string; dpop: string };
    expect(view).toMatchObject({ dpop: 'required', dpop_bound_access_tokens: true });
    const refused = await clientCredentials('strict', view.client_secret);
    expect(refused).toMatchObject({
      status: 400,
      body: { error: 'invalid_dpop_proof', code: 'ERR_DPOP_REQUIRED' },
    });
    expect((await jot(['clients', 'show', 'strict'], { env })).stdout).toMatch(/^dpop\s+required$/m);

    const relaxed = await jot(['clients', 'update', 'strict', '--dpop', 'optional'], { env });
    expect(relaxed.code).toBe(0);
    expect(relaxed.stdout).toMatch(/^dpop\s+optional$/m);
    expect((await clientCredentials('strict', view.client_secret)).status).toBe(200);

    expect(errorLine(await jot(['clients', 'update', 'strict', '--dpop', 'always'], { env }))).toMatch(
      /ERR_CLI_USAGE: --dpop must be one of optional, required/,
    );
    expect(errorLine(await jot(['clients', 'update', 'jot', '--dpop', 'required'], { env }))).toMatch(
      /JOT_DPOP.*\(ERR_CLIENT_INVALID\)/,
    );
    expect(errorLine(await jot(['clients', 'update', 'nope', '--dpop', 'required'], { env }))).toMatch(
      /ERR_CLI_NOT_FOUND/,
    );
  });

  it('sets the introspection policy at registration and with update; own sees only its own tokens', async () => {
    const add = (id: string, ...extra: string[]) =>
      jot(
        [
          ...['clients', 'add', '--name', id, '--id', id, '--auth', 'client_secret_basic'],
          ...['--audience', 'https://orders.internal', ...extra, '--json'],
        ],
        { env },
      );
    const issuer = JSON.parse((await add('issuing')).stdout) as {
      client_secret: string;
      introspection: string;
    };
    expect(issuer.introspection).toBe('own');
    const added = await add('orders-api', '--introspection', 'any');
    expect(added.code).toBe(0);
    const rs = JSON.parse(added.stdout) as { client_secret: string; introspection: string };
    expect(rs.introspection).toBe('any');
    expect((await jot(['clients', 'show', 'orders-api'], { env })).stdout).toMatch(/^introspection\s+any$/m);

    const token = (await clientCredentials('issuing', issuer.client_secret)).body.access_token!;
    expect(await introspect(token, 'orders-api', rs.client_secret)).toMatchObject({
      active: true,
      client_id: 'issuing',
    });
    const narrowed = await jot(['clients', 'update', 'orders-api', '--introspection', 'own'], { env });
    expect(narrowed.code).toBe(0);
    expect(narrowed.stdout).toMatch(/^introspection\s+own$/m);
    expect(await introspect(token, 'orders-api', rs.client_secret)).toEqual({ active: false });

    expect(errorLine(await add('bad', '--introspection', 'all'))).toMatch(
      /ERR_CLI_USAGE: --introspection must be one of own, any/,
    );
    expect(errorLine(await jot(['clients', 'update', 'orders-api'], { env }))).toMatch(
      /ERR_CLI_USAGE: nothing to change/,
    );
    expect(errorLine(await jot(['clients', 'update', 'jot', '--introspection', 'any'], { env }))).toMatch(
      /public client.*\(ERR_CLIENT_INVALID\)/,
    );
  });
});
