/** docs/errors.md lists exactly the codes that exist, in every package (a missing or stale row fails). */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { JOSE_ERROR_CODES } from '@jot/jose';
import { CLI_ERROR_CODES } from '../../cli/src/index.js';
import { CLIENT_ERROR_CODES } from '../../client/src/index.js';
import { SERVICE_ERROR_CODES } from '../../service/src/index.js';
import { VERIFY_ERROR_CODES } from '../../verify/src/index.js';
import { ConfigError, KEY_ERROR_CODES, SERVER_ERROR_CODES, STORE_ERROR_CODES } from '../src/index.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)`/gm)].map((m) => m[1]!));

const existing = new Set<string>([
  ...JOSE_ERROR_CODES,
  ...SERVER_ERROR_CODES,
  ...STORE_ERROR_CODES,
  ...KEY_ERROR_CODES,
  ...VERIFY_ERROR_CODES,
  ...SERVICE_ERROR_CODES,
  ...CLIENT_ERROR_CODES,
  ...CLI_ERROR_CODES,
  new ConfigError('port', 'x').code,
]);

describe('docs/errors.md', () => {
  it('documents every error code', () => {
    expect([...existing].filter((code) => !documented.has(code))).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    expect([...documented].filter((code) => !existing.has(code))).toEqual([]);
  });
});
