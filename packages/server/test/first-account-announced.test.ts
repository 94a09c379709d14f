/**
 * A server started with no account tells its operator how the first admin comes to be — the first account
 * registered (outside production, open registration) or JOT_ADMIN_EMAIL / `jot admin create` — and says nothing
 * once an account exists.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { freePort, START_DEADLINE_MS, startBin, type BinProcess } from './support/bin-process.js';
import { waitFor } from './support/processes.js';

const started: { bin: BinProcess; dataDir: string }[] = [];

afterEach(async () => {
  for (const { bin, dataDir } of started.splice(0)) {
    await bin.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

async function start(env: Record<string, string>, dataDir = mkdtempSync(join(tmpdir(), 'jot-first-'))) {
  const port = await freePort();
  const bin = await startBin(port, {
    NODE_ENV: 'test',
    JOT_DATA_DIR: dataDir,
    JOT_ISSUER: `http://127.0.0.1:${port}`,
    JOT_LOG_LEVEL: 'info',
    ...env,
  });
  started.push({ bin, dataDir });
  return bin;
}

/** What the server said about the first account (it says it before "Jot is serving"), or undefined. */
async function firstAccountLine(bin: BinProcess): Promise<string | undefined> {
  await waitFor('the start-up log', () => bin.output().includes('Jot is serving'));
  const line = bin
    .output()
    .split('\n')
    .find((l) => l.includes('no accounts yet'));
  return line === undefined ? undefined : (JSON.parse(line) as { msg: string }).msg;
}

// Each test's timeout: a start as slow as startBin allows, then the wait for the start-up log.
describe('the first account', { timeout: START_DEADLINE_MS + 20_000 }, () => {
  it('with open registration outside production: the first account registered becomes an admin', async () => {
    const bin = await start({ JOT_REGISTRATION: 'open' });
    expect(await firstAccountLine(bin)).toMatch(
      /first account registered becomes an admin.*Create an account/,
    );
  });

  it('otherwise: names JOT_ADMIN_EMAIL and jot admin create', async () => {
    const bin = await start({ JOT_REGISTRATION: 'closed' });
    expect(await firstAccountLine(bin)).toMatch(/JOT_ADMIN_EMAIL and JOT_ADMIN_PASSWORD.*jot admin create/);
  });

  it('says nothing once an account exists', async () => {
    const bin = await start({
      JOT_ADMIN_EMAIL: 'ops@example.com',
      JOT_ADMIN_PASSWORD: 'a long admin password',
    });
    expect(await firstAccountLine(bin)).toBeUndefined();
  });
});
