/**
 * `jot keygen --out … --force` replaces the key pair as a pair: when one file cannot be written, the old private
 * and public keys both stay as they were, no temporary file is left behind, and the new files keep their modes.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { errorLine, jot, tempDir } from './support.js';

describe('jot keygen --force', () => {
  it('leaves the old private key in place when the public key cannot be written', async () => {
    const dir = tempDir();
    expect((await jot(['keygen', '--alg', 'ES256', '--out', 'k.json'], { cwd: dir })).code).toBe(0);
    const before = readFileSync(join(dir, 'k.json'), 'utf8');
    rmSync(join(dir, 'k.pub.json'));
    mkdirSync(join(dir, 'k.pub.json')); // the public key path cannot be replaced by a file
    const r = await jot(['keygen', '--alg', 'ES256', '--out', 'k.json', '--force'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(errorLine(r)).toMatch(/^jot: ERR_CLI_FILE_UNWRITABLE: .*k\.pub\.json/);
    expect(readFileSync(join(dir, 'k.json'), 'utf8')).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['k.json', 'k.pub.json']);
  });

  it('replaces both files, private 0600 and public 0644, leaving nothing else', async () => {
    const dir = tempDir();
    expect((await jot(['keygen', '--alg', 'ES256', '--out', 'k.json'], { cwd: dir })).code).toBe(0);
    const before = readFileSync(join(dir, 'k.json'), 'utf8');
    const r = await jot(['keygen', '--alg', 'ES256', '--out', 'k.json', '--force'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'k.json'), 'utf8')).not.toBe(before);
    expect(statSync(join(dir, 'k.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'k.pub.json')).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir).sort()).toEqual(['k.json', 'k.pub.json']);
  });
});
