/**
 * `jot keys withdraw <kid>` with a kid that starts with `-`. A kid is base64url, and the keys of a database made
 * before the server stopped creating such kids may have one: commander read `-x3f…` as an unknown option and
 * `-V…` as `--version` (printing the version, exit 0, nothing withdrawn). Now the kid is the kid wherever it stands,
 * `--json` is read before or after it, and `--` still works. The stored key with such a kid is written here with a
 * chosen kid, sealed under the deployment's KEK as the server seals its own, so nothing waits for chance.
 */
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateKeyPair } from '@jot/jose';
import { openStore, type Store } from '@jot/server';
import { createKek } from '../../server/src/keys/kek.js';
import { sealSigningKey } from '../../server/src/keys/sealed-key.js';
import { errorLine, jot, serverEnv, tempDir } from './support.js';

const KEK = randomBytes(32);
const dataDir = tempDir();
const env = serverEnv(dataDir, { JOT_KEK: KEK.toString('base64url') });

/** Kids of pending keys stored here, each starting with `-`. */
const dashed = ['-x3f', '-V0c', '--json', '-h'].map((start) => start.padEnd(43, 'Q'));
let store: Store;

const listed = async (): Promise<Array<{ kid: string; state: string }>> =>
  JSON.parse((await jot(['keys', 'list', '--json'], { env })).stdout).keys;

beforeAll(async () => {
  // The first key (the active one) as the CLI makes it; then pending keys with the crafted kids.
  expect((await jot(['keys', 'list'], { env })).code).toBe(0);
  store = await openStore({ dataDir });
  const kek = createKek(KEK);
  const later = Date.now() + 3_600_000;
  for (const [i, kid] of dashed.entries()) {
    const sealed = sealSigningKey(kek, generateKeyPair('ES256', { kid }));
    await store.insertSigningKey({ ...sealed, activatesAt: later + i }, Date.now() + i);
  }
  expect((await listed()).map((k) => k.kid)).toEqual(expect.arrayContaining(dashed));
});
afterAll(async () => {
  await store?.close();
});

describe('jot keys withdraw with a kid that starts with "-"', () => {
  it('withdraws it given as is, with --json before or after it', async () => {
    const [x3f, v0c] = dashed as [string, string];
    const first = await jot(['keys', 'withdraw', x3f, '--json'], { env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ kid: x3f });
    // `-V…` is not `jot --version`.
    const second = await jot(['keys', 'withdraw', '--json', v0c], { env });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ kid: v0c });
    const kids = (await listed()).map((k) => k.kid);
    expect(kids).not.toContain(x3f);
    expect(kids).not.toContain(v0c);
  });

  it('a kid that begins like one of its options (--json…, -h…) is a kid too; "--" still works', async () => {
    const [, , json, help] = dashed as [string, string, string, string];
    // These are not exactly `--json` or `-h`: kids as well.
    const plain = await jot(['keys', 'withdraw', json], { env });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(`withdrew key ${json}; running servers drop it at once\n`);
    const separated = await jot(['keys', 'withdraw', '--json', '--', help], { env });
    expect(separated.code, separated.stderr).toBe(0);
    expect(JSON.parse(separated.stdout)).toMatchObject({ kid: help });
    expect((await listed()).map((k) => k.kid)).not.toEqual(expect.arrayContaining([json, help]));
  });

  it('answers a kid that is not published with ERR_CLI_NOT_FOUND, never as an option error or the version', async () => {
    for (const kid of ['-Vnone', '-xnone', '--none']) {
      const result = await jot(['keys', 'withdraw', kid], { env });
      expect(result.stdout).toBe('');
      expect(result.code).toBe(2);
      expect(errorLine(result)).toMatch(/^jot: ERR_CLI_NOT_FOUND: no published signing key/);
    }
  });

  it('still refuses the active key, whatever its kid, and two kids at once', async () => {
    const active = (await listed()).find((k) => k.state === 'active')!;
    const refused = await jot(['keys', 'withdraw', active.kid], { env });
    expect(errorLine(refused)).toMatch(/^jot: ERR_KEY_ACTIVE: /);
    const two = await jot(['keys', 'withdraw', '-xone', '-xtwo'], { env });
    expect(two.code).toBe(2);
    expect(errorLine(two)).toMatch(/^jot: ERR_CLI_USAGE: too many arguments/);
  });

  it('still shows help for -h and --help, and jot -V still prints the version', async () => {
    for (const flag of ['-h', '--help']) {
      const help = await jot(['keys', 'withdraw', flag], { env });
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('jot keys withdraw -x3f…');
    }
    const version = await jot(['-V']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
