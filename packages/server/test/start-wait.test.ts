/**
 * The wait for a child process's start that `startBin` and `startChildServer` share (`support/start-wait.ts`): it
 * fails a start that makes no progress (uses no CPU) after the no-progress window, whatever the load, but not one
 * that keeps working past it; the deadline bounds a start that works forever; an exit before ready is reported with
 * its code. `waitForExit` (a start that must fail) gives the exit code, and fails one that hangs or runs on instead.
 * Every failure kills the process and gives its output. The windows here are short ones of the test's own
 * (the defaults are 20 s and 120 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

import { afterEach, describe, expect, it } from 'vitest';

import { waitFor } from './support/processes.js';
import { waitForExit, waitForStart } from './support/start-wait.js';

/** Where `/proc/<pid>/stat` cannot be read, only the deadline applies (the stall is Linux's to see). */
const PROC = existsSync('/proc/self/stat');

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** A node child running `script`, with everything it prints. */
function child(script: string): { process: ChildProcess; output: () => string } {
  const started = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(started);
  let output = '';
  started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { process: started, output: () => output };
}

/** A `ready` that watches the output for `READY <n>`, as `startChildServer` does. */
const readyIn = (output: () => string) => (): number | undefined => {
  const match = /READY (\d+)/.exec(output());
  return match === null ? undefined : Number(match[1]);
};

describe('waitForStart', () => {
  it.skipIf(!PROC)(
    'fails a start that never becomes ready and uses no CPU after the no-progress window, and kills it',
    async () => {
      // It prints that it is starting, then waits for nothing, burning no CPU: a hang.
      const hung = child(`console.log('starting'); setInterval(() => {}, 1 << 30);`);
      // The window starts once it is past Node's own start-up (which does use CPU).
      await waitFor('the child to print', () => hung.output().includes('starting'), 60_000);
      await expect(
        waitForStart(hung.process, {
          name: 'test child',
          ready: readyIn(hung.output),
          output: hung.output,
          stallMs: 1000,
          deadlineMs: 60_000,
        }),
      ).rejects.toThrow(
        /^test child used no CPU for 1000 ms without becoming ready: it hangs \(\d+ CPU ticks in \d+ ms\):\nstarting\n/,
      );
      expect(hung.process.signalCode).toBe('SIGKILL');
    },
  );

  it('waits past the no-progress window for a start that keeps using CPU, and returns what ready gives', async () => {
    // Busy for twice the window (wall clock) before it is ready: progress all along, so no stall.
    const busy = child(
      `const end = Date.now() + 2000; while (Date.now() < end); console.log('READY 4321'); setInterval(() => {}, 1 << 30);`,
    );
    await expect(
      waitForStart(busy.process, {
        name: 'test child',
        ready: readyIn(busy.output),
        output: busy.output,
        stallMs: 1000,
        deadlineMs: 60_000,
      }),
    ).resolves.toBe(4321);
    expect(busy.process.exitCode).toBeNull();
  });

  it('fails a start that keeps using CPU but is not ready by the deadline, and kills it', async () => {
    const spinning = child(`console.log('spinning'); for (;;);`);
    await expect(
      waitForStart(spinning.process, {
        name: 'test child',
        ready: readyIn(spinning.output),
        output: spinning.output,
        stallMs: 60_000,
        deadlineMs: 500,
      }),
    ).rejects.toThrow(/^test child did not become ready in 500 ms \(\d+ CPU ticks in \d+ ms\):\n/);
    expect(spinning.process.signalCode).toBe('SIGKILL');
  });

  it('reports a process that exits before it is ready, with its exit code and output', async () => {
    const failing = child(`console.error('JOT_ISSUER is required'); process.exit(3);`);
    await expect(
      waitForStart(failing.process, {
        name: 'test child',
        ready: readyIn(failing.output),
        output: failing.output,
        stallMs: 60_000,
        deadlineMs: 60_000,
      }),
    ).rejects.toThrow(/^test child exited \(3\):\nJOT_ISSUER is required\n/);
  });
});

describe('waitForExit (a start that must fail)', () => {
  it('resolves the exit code once the process has exited and its output is read', async () => {
    const failing = child(`console.error('ERR_CONFIG_INVALID'); process.exit(2);`);
    await expect(
      waitForExit(failing.process, { name: 'test child', output: failing.output, stallMs: 60_000 }),
    ).resolves.toEqual({ code: 2, signal: null });
    expect(failing.output()).toBe('ERR_CONFIG_INVALID\n');
  });

  it.skipIf(!PROC)('fails a process that hangs instead of exiting, and kills it', async () => {
    const hung = child(`console.log('serving'); setInterval(() => {}, 1 << 30);`);
    await waitFor('the child to print', () => hung.output().includes('serving'), 60_000);
    await expect(
      waitForExit(hung.process, {
        name: 'test child',
        output: hung.output,
        stallMs: 1000,
        deadlineMs: 60_000,
      }),
    ).rejects.toThrow(
      /^test child used no CPU for 1000 ms without exiting: it hangs \(\d+ CPU ticks in \d+ ms\):\nserving\n/,
    );
    expect(hung.process.signalCode).toBe('SIGKILL');
  });

  it('fails a process still running at the deadline, and kills it', async () => {
    const spinning = child(`for (;;);`);
    await expect(
      waitForExit(spinning.process, {
        name: 'test child',
        output: spinning.output,
        stallMs: 60_000,
        deadlineMs: 500,
      }),
    ).rejects.toThrow(/^test child did not exit in 500 ms/);
    expect(spinning.process.signalCode).toBe('SIGKILL');
  });
});
