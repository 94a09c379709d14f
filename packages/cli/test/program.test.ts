/** The `jot` program itself: help for every command, usage errors as one coded line, and docs/cli.md in step. */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { buildProgram, CLI_ERROR_CODES } from '../src/index.js';
import { describeFailure, formatFailure } from '../src/errors.js';
import { processIo } from '../src/io.js';
import { errorLine, jot } from './support.js';

const COMMANDS = [
  'kek',
  'secret',
  'keygen',
  'decode',
  'verify',
  'sign',
  'admin create',
  'users add',
  'users list',
  'users show',
  'users disable',
  'users enable',
  'users set-roles',
  'users invite',
  'users delete',
  'clients add',
  'clients list',
  'clients show',
  'clients update',
  'clients rotate-secret',
  'clients remove',
  'sessions list',
  'sessions revoke',
  'keys list',
  'keys rotate',
  'keys withdraw',
  'outbox list',
  'outbox retry',
  'redis deployment-id',
  'serve',
  'config check',
];

describe('jot', () => {
  it('lists every command in --help, on stdout, with exit 0', async () => {
    const result = await jot(['--help']);
    expect(result.code).toBe(0);
    for (const name of ['kek', 'secret', 'keygen', 'decode', 'verify', 'sign', 'admin', 'serve', 'config']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
    expect(result.stdout).toContain('Exit codes: 0 success, 1 check failed');
  });

  it.each(COMMANDS)('gives "%s --help" with an example', async (command) => {
    const result = await jot([...command.split(' '), '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: jot ${command}`);
    expect(result.stdout).toMatch(/Examples?:\n {2}/);
  });

  it('prints the version', async () => {
    const result = await jot(['--version']);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('shows help on stderr and exits 2 without a command', async () => {
    const result = await jot([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: jot');
  });

  it('reports an unknown command or option as one ERR_CLI_USAGE line pointing at the right help', async () => {
    const command = await jot(['verfy']);
    expect(command.code).toBe(2);
    expect(command.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(errorLine(command)).toBe(
      'jot: ERR_CLI_USAGE: unknown command \'verfy\' (Did you mean verify?) (see "jot --help")',
    );
    const option = await jot(['config', 'check', '--nope']);
    expect(errorLine(option)).toBe(
      'jot: ERR_CLI_USAGE: unknown option \'--nope\' (see "jot config check --help")',
    );
  });

  it('reports a missing required option', async () => {
    const result = await jot(['sign', '--key', 'k.json']);
    expect(result.code).toBe(2);
    expect(errorLine(result)).toMatch(
      /^jot: ERR_CLI_USAGE: required option '--claims <json\|@file>' not specified/,
    );
  });
});

describe('failures nothing else classifies', () => {
  it('reports an unexpected error as ERR_CLI_UNEXPECTED on one line, exit 2', () => {
    const failure = describeFailure(new Error('disk on fire\nsecond line'));
    expect(failure).toEqual({
      code: 'ERR_CLI_UNEXPECTED',
      message: 'disk on fire\nsecond line',
      exitCode: 2,
    });
    expect(formatFailure(failure)).toBe('jot: ERR_CLI_UNEXPECTED: disk on fire second line');
    expect(describeFailure('thrown string').code).toBe('ERR_CLI_UNEXPECTED');
  });
});

describe('docs/cli.md', () => {
  const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');

  it('documents every command with an example', () => {
    for (const command of COMMANDS) {
      expect(doc).toContain(`## \`jot ${command}\``);
      expect(doc).toMatch(new RegExp(`\\n\\$ jot ${command}[ \\n]`));
    }
    const registered = buildProgram(processIo()).commands.flatMap((c) =>
      c.commands.length === 0 ? [c.name()] : c.commands.map((sub) => `${c.name()} ${sub.name()}`),
    );
    expect(registered.sort()).toEqual([...COMMANDS].sort());
  });

  it('lists exactly the CLI error codes that exist', () => {
    const documented = [...doc.matchAll(/^\| `(ERR_CLI_[A-Z_]+)`/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...CLI_ERROR_CODES].sort());
  });
});
