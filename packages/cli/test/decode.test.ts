/** `jot decode`: the UNVERIFIED label, ISO times, warnings, stdin input and malformed tokens. */
import { beforeAll, describe, expect, it } from 'vitest';

import { UNVERIFIED_BANNER } from '../src/commands/decode.js';
import { b64, makeKeyDir, type KeyDir } from './fixtures.js';
import { errorLine, jot, NOW, type RunOptions } from './support.js';

let keys: KeyDir;
const signed = (args: string[], options?: RunOptions): Promise<string> => keys.signed(args, options);

beforeAll(async () => {
  keys = await makeKeyDir();
});

describe('jot decode', () => {
  it('labels the output UNVERIFIED and shows times as ISO dates', async () => {
    const token = await signed(['--key', 'es.json', '--claims', '{"sub":"u"}', '--exp', '10m']);
    const result = await jot(['decode', '-'], { stdin: `  ${token}\n` });
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith(UNVERIFIED_BANNER)).toBe(true);
    expect(result.stdout).toContain('iat       2030-01-01T00:00:00.000Z  (in 0s)');
    expect(result.stdout).toContain('exp       2030-01-01T00:10:00.000Z  (in 10m)');
    expect(result.stdout).not.toContain('Warnings');
  });

  it('warns about alg none, a missing exp, expiry and a long lifetime', async () => {
    const none = `${b64({ alg: 'none' })}.${b64({ sub: 'u' })}.`;
    const noneResult = await jot(['decode', none, '--json']);
    expect(noneResult.code).toBe(0);
    expect(JSON.parse(noneResult.stdout)).toMatchObject({
      verified: false,
      warnings: [
        'alg is "none": the token is unsigned and must never be accepted',
        'no "exp" claim: the token never expires',
      ],
    });
    const long = await signed(['--key', 'es.json', '--claims', '{}', '--exp', '30d']);
    const later = await jot(['decode', long], { now: new Date(NOW.getTime() + 31 * 86_400_000) });
    expect(later.stdout).toContain('! expired 24h ago');
    expect(later.stdout).toContain('! lifetime of 30d is longer than 1 day');
  });

  it('exits 1 with the JOSE code for a malformed token', async () => {
    const result = await jot(['decode', 'a.b']);
    expect(result.code).toBe(1);
    expect(errorLine(result)).toBe(
      'jot: ERR_JWS_INVALID: a compact JWS has exactly three parts separated by "."',
    );
  });

  it('exits 2 when stdin is empty', async () => {
    const result = await jot(['decode', '-'], { stdin: '\n' });
    expect(result.code).toBe(2);
    expect(errorLine(result)).toBe('jot: ERR_CLI_USAGE: no token given (stdin was empty)');
  });
});
