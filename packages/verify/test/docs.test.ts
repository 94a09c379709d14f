/** Every @jot/verify code is documented in docs/verify.md, and the doc lists no code that does not exist. */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { VERIFY_ERROR_CODES } from '../src/index.js';

describe('docs/verify.md', () => {
  it('documents exactly the ERR_VERIFY_ codes', () => {
    const doc = readFileSync(new URL('../../../docs/verify.md', import.meta.url), 'utf8');
    const documented = new Set(doc.match(/ERR_VERIFY_[A-Z_]+/g));
    expect([...documented].sort()).toEqual([...VERIFY_ERROR_CODES].sort());
  });
});
