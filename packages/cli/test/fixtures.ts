/** Key files and token helpers shared by the sign/verify/decode tests. */
import { Buffer } from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { expect } from 'vitest';

import { jot, tempDir, type RunOptions } from './support.js';

/** A directory holding es.json/es.pub.json (ES256, kid k1), rs.pem/rs.pub.pem (RSA) and jwks.json. */
export interface KeyDir {
  readonly dir: string;
  readonly publicJwk: Record<string, unknown>;
  /** Runs `jot sign` in the directory and returns the token. */
  signed(args: string[], options?: RunOptions): Promise<string>;
}

/** Creates the key directory with the CLI itself. */
export async function makeKeyDir(): Promise<KeyDir> {
  const dir = tempDir();
  expect(
    (await jot(['keygen', '--alg', 'ES256', '--kid', 'k1', '--out', 'es.json'], { cwd: dir })).code,
  ).toBe(0);
  expect(
    (await jot(['keygen', '--alg', 'RS256', '--format', 'pem', '--out', 'rs.pem'], { cwd: dir })).code,
  ).toBe(0);
  const publicJwk = JSON.parse(readFileSync(join(dir, 'es.pub.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [publicJwk] }));
  return {
    dir,
    publicJwk,
    async signed(args, options = {}) {
      const result = await jot(['sign', ...args], { cwd: dir, ...options });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return result.stdout.trim();
    },
  };
}

/** base64url of a JSON value, for hand-built tokens. */
export function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An HTTP server on a free loopback port. */
export function listen(handler: RequestListener): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The base URL of a server from `listen`. */
export function url(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
