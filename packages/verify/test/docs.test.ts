/** Every @jot/verify code is documented in docs/verify.md, and the doc lists no code that does not exist. */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { HEARTBEAT_MS } from '../../server/src/plugins/revocation-stream.js';
import { VERIFY_ERROR_CODES } from '../src/index.js';

describe('docs/verify.md', () => {
  it('documents exactly the codes of VERIFY_ERROR_CODES in its table, and names no other ERR_VERIFY_ code', () => {
    const doc = readFileSync(new URL('../../../docs/verify.md', import.meta.url), 'utf8');
    const rows = new Set([...doc.matchAll(/^\| `(ERR_[A-Z_]+)`/gm)].map((m) => m[1]));
    expect([...rows].sort()).toEqual([...VERIFY_ERROR_CODES].sort());
    const mentioned = new Set(doc.match(/ERR_VERIFY_[A-Z_]+/g));
    expect([...mentioned].filter((code) => !rows.has(code))).toEqual([]);
  });

  it("states the server's real heartbeat interval wherever heartbeatTimeout is explained", () => {
    // Regression: the heartbeatTimeout comment said the server pings every 15 s; it sends a comment every 5 s.
    const seconds = HEARTBEAT_MS / 1000;
    const doc = readFileSync(new URL('../../../docs/verify.md', import.meta.url), 'utf8');
    const options = readFileSync(new URL('../src/options.ts', import.meta.url), 'utf8');
    expect(doc).toContain(`The server pings every ${seconds} s`);
    expect(options).toContain(`(a comment line every ${seconds} s)`);
    expect(options).not.toMatch(/ping interval\s*\*?\s*\(15 s\)/);
  });
});
