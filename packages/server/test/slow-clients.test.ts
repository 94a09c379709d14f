/**
 * Slow clients cannot hold a connection open (issue 8: a half-sent body stayed open for more than 80 s): headers
 * that never finish, a body that never finishes and an idle keep-alive connection are all closed within their
 * timeouts (`JOT_HEADERS_TIMEOUT`, `JOT_REQUEST_TIMEOUT`, `JOT_KEEP_ALIVE_TIMEOUT`), while a client that is merely
 * slow but within them is served. Also: the defaults of those settings are the ones the docs give.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../src/config/index.js';
import { defaults } from '../src/config/defaults.js';
import { startServer, type TestServer } from './support/jot-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ headersTimeout: '1s', requestTimeout: '2s', keepAliveTimeout: '1s' });
});
afterAll(async () => {
  await server.close();
});

interface RawConnection {
  socket: Socket;
  /** Everything the server sent. */
  received: () => string;
  /** Resolves with the milliseconds from `openedAt` until the server closed the connection. */
  closed: Promise<number>;
}

async function open(): Promise<RawConnection> {
  const { port } = new URL(server.url);
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const openedAt = performance.now();
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(performance.now() - openedAt)),
  );
  return { socket, received: () => received, closed };
}

/** The connection's close, or a failure naming how long it stayed open. */
async function closedWithin(connection: RawConnection, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    connection.closed,
    new Promise<'open'>((resolve) => {
      timer = setTimeout(() => resolve('open'), ms);
    }),
  ]);
  clearTimeout(timer);
  connection.socket.destroy();
  if (outcome === 'open') throw new Error(`the server still held the connection after ${ms} ms`);
  return outcome;
}

describe('a slow client is cut off', () => {
  it('headers that never finish: closed after the headers timeout', async () => {
    const connection = await open();
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: jot.test\r\n');
    const elapsed = await closedWithin(connection, 8000);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(connection.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(connection.received()).toContain('"code":"ERR_REQUEST_TIMEOUT"');
  });

  it('a connection that never sends a byte: closed after the headers timeout', async () => {
    const connection = await open();
    const elapsed = await closedWithin(connection, 8000);
    expect(elapsed).toBeGreaterThanOrEqual(900);
  });

  it('a body that never finishes: 408 and closed after the request timeout', async () => {
    const connection = await open();
    connection.socket.write(
      'POST /api/login HTTP/1.1\r\nHost: jot.test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":',
    );
    // Keep dribbling, a byte at a time, well inside any inactivity limit: only the total time can stop this.
    const dribble = setInterval(() => connection.socket.write(' '), 200);
    try {
      const elapsed = await closedWithin(connection, 9000);
      expect(elapsed).toBeGreaterThanOrEqual(1900);
    } finally {
      clearInterval(dribble);
    }
    expect(connection.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(connection.received()).toContain('"code":"ERR_REQUEST_TIMEOUT"');
  });

  it('an idle keep-alive connection: closed after the keep-alive timeout', async () => {
    const connection = await open();
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: jot.test\r\n\r\n');
    const elapsed = await closedWithin(connection, 8000);
    expect(connection.received()).toMatch(/^HTTP\/1\.1 200/);
    expect(connection.received()).toMatch(/keep-alive: timeout=1/i);
    expect(elapsed).toBeGreaterThanOrEqual(900);
  });

  it('a slow but timely client is served', async () => {
    const connection = await open();
    const body = JSON.stringify({ email: 'slow@example.com', password: 'correct horse battery' });
    connection.socket.write(
      `POST /api/register HTTP/1.1\r\nHost: jot.test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    for (const part of [body.slice(0, 10), body.slice(10, 30), body.slice(30)]) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      connection.socket.write(part);
    }
    await closedWithin(connection, 8000);
    expect(connection.received()).toMatch(/^HTTP\/1\.1 201/);
  });
});

describe('timeout settings', () => {
  it('are configured on the server as loaded', () => {
    expect(server.app.server.headersTimeout).toBe(1000);
    expect(server.app.server.requestTimeout).toBe(2000);
    expect(server.app.server.keepAliveTimeout).toBe(1000);
  });

  it('refuse a headers timeout longer than the request timeout, naming the variable', () => {
    expect(() =>
      loadConfig({
        env: {},
        file: false,
        overrides: { nodeEnv: 'test', headersTimeout: '40s', requestTimeout: '30s' },
      }),
    ).toThrow(/^JOT_HEADERS_TIMEOUT .*must be at most JOT_REQUEST_TIMEOUT/);
  });

  it('have the defaults docs/config.md and the README give', () => {
    const doc = readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const settings = {
      JOT_REQUEST_TIMEOUT: defaults.requestTimeout,
      JOT_HEADERS_TIMEOUT: defaults.headersTimeout,
      JOT_KEEP_ALIVE_TIMEOUT: defaults.keepAliveTimeout,
      JOT_DRAIN_TIMEOUT: defaults.drainTimeout,
    };
    for (const [name, value] of Object.entries(settings)) {
      const row = new RegExp(`^\\|\\s*\`${name}\`\\s*\\|\\s*\`\\w+\`\\s*\\|\\s*\`([^\`]+)\``, 'm').exec(doc);
      expect({ name, documented: row?.[1] }).toEqual({ name, documented: value });
      const readmeRow = new RegExp(`^\\|\\s*\`${name}\`\\s*\\|\\s*\`([^\`]+)\``, 'm').exec(readme);
      if (readmeRow !== null) expect({ name, readme: readmeRow[1] }).toEqual({ name, readme: value });
    }
  });
});
