/** Runs `jot` in-process with string stdin, captured stdout/stderr, a fake environment and a fixed clock. */
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';

import { run, type CliIo, type InputStream } from '../src/index.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string | InputStream;
  cwd?: string;
  now?: Date;
  signals?: EventEmitter;
  /** Called with everything written to stderr so far, after each write (prompt tests). */
  onStderr?: (text: string) => void;
  onStdout?: (text: string) => void;
}

/** A fixed "now" for tests: 2030-01-01T00:00:00Z. */
export const NOW = new Date('2030-01-01T00:00:00.000Z');

/** Runs the CLI and collects its output. */
export async function jot(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const stdin =
    typeof options.stdin === 'string' || options.stdin === undefined
      ? (Readable.from(options.stdin === undefined ? [] : [options.stdin]) as InputStream)
      : options.stdin;
  const io: CliIo = {
    stdout: {
      write: (s: string) => {
        stdout += s;
        options.onStdout?.(stdout);
      },
    },
    stderr: {
      write: (s: string) => {
        stderr += s;
        options.onStderr?.(stderr);
      },
    },
    stdin,
    env: options.env ?? {},
    cwd: options.cwd ?? tempDir(),
    now: () => options.now ?? NOW,
    signals: options.signals ?? new EventEmitter(),
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/** A `jot serve` running in-process: its URL once it serves, its output so far, and `stop()` (SIGTERM, then its result). */
export interface Serving {
  url: string;
  signals: EventEmitter;
  stdout(): string;
  stop(): Promise<RunResult>;
}

/**
 * Starts `jot serve` and resolves once its "Jot is serving" line is written — the point after which it listens for
 * SIGTERM (a signal sent earlier is lost and the server would run on). Rejects with the command's output if it exits
 * first or does not serve within `timeoutMs`.
 */
export async function serve(env: Record<string, string>, cwd: string, timeoutMs = 30_000): Promise<Serving> {
  const signals = new EventEmitter();
  let stdout = '';
  let serving: (url: string) => void = () => undefined;
  const started = new Promise<string>((resolve) => (serving = resolve));
  const running = jot(['serve'], {
    env,
    cwd,
    signals,
    onStdout: (text) => {
      stdout = text;
      const match = /Server listening at (http:\/\/[^"\s]+)/.exec(text);
      if (match !== null && text.includes('Jot is serving')) serving(match[1]!);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const url = await Promise.race([
    started,
    running.then((result) => {
      throw new Error(`jot serve exited ${result.code} before serving:\n${result.stdout}${result.stderr}`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`jot serve did not serve within ${timeoutMs} ms:\n${stdout}`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  return {
    url,
    signals,
    stdout: () => stdout,
    stop: async () => {
      signals.emit('SIGTERM');
      return running;
    },
  };
}

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'jot-cli-'));
}

/** A fake terminal: `isTTY`, a recorded `setRawMode`, and `type()` to send keystrokes. */
export function fakeTty(): InputStream & { type(text: string): void; rawModes: boolean[] } {
  const stream = new PassThrough();
  const rawModes: boolean[] = [];
  return Object.defineProperties(stream, {
    isTTY: { value: true },
    setRawMode: { value: (mode: boolean) => rawModes.push(mode) },
    rawModes: { value: rawModes },
    type: { value: (text: string) => stream.write(text) },
  }) as unknown as InputStream & { type(text: string): void; rawModes: boolean[] };
}

/** Environment for commands that read the server configuration: test mode, cheap argon2, silent logs. */
export function serverEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    JOT_DATA_DIR: dataDir,
    JOT_ISSUER: 'http://jot.test',
    JOT_ARGON2_MEMORY_KIB: '1024',
    JOT_ARGON2_TIME_COST: '1',
    JOT_LOG_LEVEL: 'silent',
    JOT_SIGNING_ALG: 'ES256',
    JOT_RATE_LIMIT_AUTH: '1000/min',
    ...extra,
  };
}

/** The single stderr line of a failed run. */
export function errorLine(result: RunResult): string {
  const lines = result.stderr.trimEnd().split('\n');
  return lines[lines.length - 1] ?? '';
}
