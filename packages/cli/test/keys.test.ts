/** `jot kek`, `jot secret`, `jot keygen`: lengths, formats, file modes, and never overwriting a key. */
import { Buffer } from 'node:buffer';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { importJWK, importPEM, sign, verify } from '@jot/jose';
import { publicPathFor } from '../src/commands/keygen.js';
import { errorLine, jot, tempDir } from './support.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('jot kek', () => {
  it('prints 32 random bytes as base64url, different each time', async () => {
    const first = await jot(['kek']);
    const second = await jot(['kek']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(Buffer.from(first.stdout.trim(), 'base64url')).toHaveLength(32);
    expect(second.stdout).not.toBe(first.stdout);
  });

  it('prints {"kek"} with --json', async () => {
    const result = await jot(['kek', '--json']);
    expect(Buffer.from(JSON.parse(result.stdout).kek, 'base64url')).toHaveLength(32);
  });
});

describe('jot secret', () => {
  it.each([
    ['HS256', 32],
    ['HS384', 48],
    ['HS512', 64],
  ])('prints a %s secret of %i bytes', async (alg, bytes) => {
    const result = await jot(['secret', '--alg', alg]);
    expect(result.code).toBe(0);
    expect(Buffer.from(result.stdout.trim(), 'base64url')).toHaveLength(bytes);
  });

  it('defaults to HS256', async () => {
    const result = await jot(['secret', '--json']);
    const { alg, secret } = JSON.parse(result.stdout);
    expect(alg).toBe('HS256');
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
  });

  it('rejects a non-HMAC algorithm with a usage error naming the choices', async () => {
    const result = await jot(['secret', '--alg', 'RS256']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(errorLine(result)).toMatch(/^jot: ERR_CLI_USAGE: .*HS256, HS384, HS512.*jot secret --help/);
  });
});

describe('jot keygen', () => {
  it('prints a private and a public JWK bound to the algorithm, with the given kid', async () => {
    const result = await jot(['keygen', '--alg', 'ES256', '--kid', 'k1']);
    expect(result.code).toBe(0);
    const { alg, kid, privateKey, publicKey } = JSON.parse(result.stdout);
    expect({ alg, kid }).toEqual({ alg: 'ES256', kid: 'k1' });
    expect(privateKey).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: 'k1' });
    expect(privateKey.d).toBeTypeOf('string');
    expect(publicKey.d).toBeUndefined();
    const token = sign({ sub: 'x' }, importJWK(privateKey), { expiresIn: 60 });
    expect(verify(token, importJWK(publicKey), { algorithms: ['ES256'] }).payload.sub).toBe('x');
  });

  it('prints PKCS #8 and SPKI PEM blocks with --format pem', async () => {
    const result = await jot(['keygen', '--alg', 'EdDSA', '--format', 'pem']);
    expect(result.code).toBe(0);
    const [privatePem, publicPem] = result.stdout.split(/(?<=-----END PRIVATE KEY-----\n)/);
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(importPEM(privatePem!).type).toBe('private');
    expect(importPEM(publicPem!).type).toBe('public');
  });

  it('writes the private key with mode 0600 and the public key beside it with --out', async () => {
    const dir = tempDir();
    const result = await jot(['keygen', '--alg', 'RS256', '--format', 'pem', '--out', 'rs.pem'], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('rs.pub.pem');
    expect(result.stdout).not.toContain('PRIVATE KEY');
    expect(mode(join(dir, 'rs.pem'))).toBe(0o600);
    expect(mode(join(dir, 'rs.pub.pem'))).toBe(0o644);
    expect(importPEM(readFileSync(join(dir, 'rs.pem'), 'utf8')).bits).toBe(2048);
    expect(importPEM(readFileSync(join(dir, 'rs.pub.pem'), 'utf8')).type).toBe('public');
  });

  it('refuses to overwrite an existing file, and writes neither file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'key.pub.json'), 'keep me');
    const result = await jot(['keygen', '--alg', 'ES256', '--out', 'key.json'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe(
      'jot: ERR_CLI_FILE_EXISTS: "key.pub.json" already exists; pass --force to replace it',
    );
    expect(existsSync(join(dir, 'key.json'))).toBe(false);
    expect(readFileSync(join(dir, 'key.pub.json'), 'utf8')).toBe('keep me');
  });

  it('replaces files with --force, and a replaced private key file is 0600 even if it was 0644', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'key.json'), 'old');
    chmodSync(join(dir, 'key.json'), 0o644);
    const result = await jot(['keygen', '--alg', 'ES384', '--out', 'key.json', '--force', '--json'], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      alg: 'ES384',
      privateKeyFile: 'key.json',
      publicKeyFile: 'key.pub.json',
    });
    expect(mode(join(dir, 'key.json'))).toBe(0o600);
    expect(importJWK(JSON.parse(readFileSync(join(dir, 'key.json'), 'utf8'))).alg).toBe('ES384');
  });

  it('fails with ERR_CLI_FILE_UNWRITABLE when the directory does not exist', async () => {
    const result = await jot(['keygen', '--alg', 'ES256', '--out', 'missing/key.json']);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe(
      'jot: ERR_CLI_FILE_UNWRITABLE: cannot write "missing/key.json": no such file',
    );
  });

  it('rejects HMAC and unknown algorithms, and a missing --alg', async () => {
    for (const args of [['--alg', 'HS256'], ['--alg', 'ES257'], []]) {
      const result = await jot(['keygen', ...args]);
      expect(result.code).toBe(2);
      expect(errorLine(result)).toMatch(/^jot: ERR_CLI_USAGE: .*--alg/);
    }
  });

  it('names the public key file after the private one', () => {
    expect(publicPathFor('signing.pem')).toBe('signing.pub.pem');
    expect(publicPathFor('dir/key.JSON')).toBe('dir/key.pub.JSON');
    expect(publicPathFor('id_ed25519')).toBe('id_ed25519.pub');
    expect(publicPathFor('.pem')).toBe('.pem.pub');
  });
});
