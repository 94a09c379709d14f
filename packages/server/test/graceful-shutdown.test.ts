/**
 * SIGTERM drains (issue 8: with a verifier connected the process never exited; with keep-alive clients it lingered
 * up to 72 s and reset in-flight requests; /readyz never turned 503). A real `jot-server` process with logins in
 * flight (their bodies held back by the test, so that they stay in flight whatever the machine's speed), keep-alive
 * clients and a connected `@jot/verify` replicated verifier gets SIGTERM: /readyz answers 503 at once, new
 * connections are refused once the listener closes, idle keep-alive connections are closed, every in-flight request
 * is answered (with `Connection: close`), the verifier's stream ends with the reconnect hint, and the process exits
 * 0 once drained. A client that never finishes its request cannot hold the exit past the drain timeout.
 *
 * With `JOT_DRAIN_DELAY` (the load balancer's time to notice /readyz), new connections are still accepted and
 * served, with `Connection: close`, for the delay after the signal — they used to be refused or answered 503 by the
 * closing app — and then the listener closes; a second signal ends the delay.
 */
import { Agent, request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createVerifier, type Verifier } from '@jot/verify';

import { freePort, START_DEADLINE_MS, startBin, type BinProcess } from './support/bin-process.js';

const SECRET = 's'.repeat(40);
const PASSWORD = 'correct horse battery';
/** Each test's timeout: a start as slow as startBin allows, and a minute for the rest. */
const TIMEOUT = START_DEADLINE_MS + 60_000;

let bin: BinProcess | undefined;
let verifier: Verifier | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await verifier?.close();
  verifier = undefined;
  await bin?.kill();
  bin = undefined;
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function start(env: Record<string, string>): Promise<BinProcess> {
  const port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'jot-sigterm-'));
  bin = await startBin(port, {
    NODE_ENV: 'test',
    JOT_DATA_DIR: dataDir,
    JOT_ISSUER: `http://127.0.0.1:${port}`,
    JOT_REVOCATION_SECRET: SECRET,
    JOT_RATE_LIMIT_AUTH: '1000/min',
    JOT_LOG_LEVEL: 'info',
    ...env,
  });
  return bin;
}

interface Answer {
  status: number;
  connection: string | undefined;
}

/**
 * One request over `agent` (keep-alive); rejects if the connection is reset instead of answered. `onWritten` is
 * called once the whole request has been handed to the operating system.
 */
function send(
  agent: Agent,
  url: string,
  method: string,
  path: string,
  body?: unknown,
  onWritten?: () => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      `${url}${path}`,
      {
        method,
        agent,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (onWritten !== undefined) req.on('finish', onWritten);
    req.end(payload);
  });
}

/** How many logins the drain test holds in flight. */
const LOGINS = 8;

/** A request whose body is held back: the server has its headers (it is in flight) until `finish()` sends the rest. */
interface HeldRequest {
  /** Resolves once the headers and the first half of the body have been handed to the operating system. */
  started: Promise<void>;
  /** Sends the rest of the body. */
  finish(): void;
  /** The answer; rejects if the connection is reset instead. */
  answer: Promise<Answer>;
}

/** A JSON `POST` to `path` over `agent` with only half its body sent; see {@link HeldRequest}. */
function held(agent: Agent, url: string, path: string, body: unknown): HeldRequest {
  const payload = Buffer.from(JSON.stringify(body));
  const half = Math.floor(payload.length / 2);
  let req!: ReturnType<typeof httpRequest>;
  const answer = new Promise<Answer>((resolve, reject) => {
    req = httpRequest(
      `${url}${path}`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': String(payload.length) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
  const started = new Promise<void>((resolve, reject) => {
    req.write(payload.subarray(0, half), (err) => (err ? reject(err) : resolve()));
  });
  started.catch(() => undefined);
  return { started, answer, finish: () => void req.end(payload.subarray(half)) };
}

/** What a request on a new connection got: its answer, or the connection's error code (`ECONNREFUSED`, …). */
type Attempt =
  | {
      status: number;
      code: string | undefined;
      connection: string | undefined;
      retryAfter: string | undefined;
      body: string;
    }
  | { error: string | undefined };

/**
 * A GET on a new connection, as a load balancer that still routes here would open; never rejects. Never from the
 * shared fetch pool: it may hold an idle keep-alive socket of the verifier's, which the drain closes — reusing it
 * would be a reset the server never saw, not an answer.
 */
function attempt(url: string, headers: Record<string, string> = {}): Promise<Attempt> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(body) as { code?: string }).code;
        } catch {
          code = undefined;
        }
        resolve({
          status: res.statusCode ?? 0,
          code,
          connection: res.headers.connection,
          retryAfter: res.headers['retry-after'],
          body,
        });
      });
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

async function poll<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

/**
 * Polls `/readyz` of `server`, each time on a new connection (see `attempt`), until it answers other than 200, and
 * returns that answer — the 503 the signal should bring, or whatever came instead (a refused connection) — for the
 * caller to check. Throws if it still answers 200 after `ms`.
 */
function readyzTurned(server: BinProcess, ms: number): Promise<Attempt> {
  return poll(
    async () => {
      const answer = await attempt(`${server.url}/readyz`);
      return 'status' in answer && answer.status === 200 ? undefined : answer;
    },
    ms,
    '/readyz to stop answering 200',
  );
}

/** Waits (up to 30 s) until the server's listener is closed: a new connection is refused. */
async function connectionsRefused(server: BinProcess): Promise<void> {
  await poll(
    async () => {
      const answer = await attempt(`${server.url}/healthz`);
      return 'error' in answer && answer.error === 'ECONNREFUSED' ? true : undefined;
    },
    30_000,
    'new connections to be refused',
  );
}

/** How many requests to `path` the server has read (Fastify's "incoming request" line, logged at `info`). */
function requestsRead(server: BinProcess, method: string, path: string): number {
  const line = new RegExp(
    `"req":\\{"method":"${method}","url":"${path.replaceAll('/', '\\/')}"[^\\n]*"msg":"incoming request"`,
    'g',
  );
  return server.output().match(line)?.length ?? 0;
}

async function connectedVerifier(url: string): Promise<{ verifier: Verifier; lines: string[] }> {
  const lines: string[] = [];
  const log = (message: string): number => lines.push(message);
  const v = createVerifier({
    issuer: url,
    audience: url,
    revocation: {
      strategy: 'replicated',
      secret: SECRET,
      maxStaleness: '30s',
      reconnectDelay: { min: '50ms', max: '1s' },
    },
    logger: { info: log, warn: log, error: log },
  });
  await v.ready();
  await poll(async () => v.stats().revocation.connected || undefined, 10_000, 'the verifier to connect');
  return { verifier: v, lines };
}

describe('SIGTERM', { timeout: TIMEOUT }, () => {
  it('drains: readyz 503, then new connections refused and idle keep-alive closed while requests are in flight; each is answered, then exit 0', async () => {
    // The logins are held in flight by this client — their bodies half sent — not by slow hashing, so the test
    // proves the drain waits for them however fast or loaded the machine is: the process cannot exit (nor its
    // connections close) before the bodies are finished, and the drain timeout, which would cut them, is far beyond
    // the few steps in between. Cheap argon2 keeps the logins' hashing short once the bodies arrive.
    const server = await start({
      JOT_DRAIN_TIMEOUT: '30s',
      // Fresh connections reach /readyz during the delay, which lasts until the test ends it with a second signal
      // (a delay of a second could pass before a loaded machine gets to the first poll); longer than the test's
      // timeout, so that nothing else ends it.
      JOT_DRAIN_DELAY: '1h',
      // A half-sent body is not cut by the request timeout while the test holds it.
      JOT_REQUEST_TIMEOUT: '300s',
      JOT_ARGON2_MEMORY_KIB: '1024',
      JOT_ARGON2_TIME_COST: '1',
      // All the logins are one account's, in flight at once: each is counted on its sign-in lockout before its
      // password is checked, so the lockout's free attempts must cover them all.
      JOT_LOGIN_LOCKOUT: `${LOGINS}/30s`,
    });
    const idleAgent = new Agent({ keepAlive: true });
    const loginAgent = new Agent({ keepAlive: true, maxSockets: LOGINS });
    try {
      const account = { email: 'a@example.com', password: PASSWORD };
      expect((await send(idleAgent, server.url, 'POST', '/api/register', account)).status).toBe(201);
      ({ verifier } = await connectedVerifier(server.url));
      // Idle keep-alive connections when the signal comes: the drain must close them when the listener closes.
      const idleSockets = new Set<Socket>();
      idleAgent.on('free', (socket) => idleSockets.add(socket));
      await Promise.all(Array.from({ length: 4 }, () => send(idleAgent, server.url, 'GET', '/healthz')));
      expect(idleSockets.size).toBeGreaterThan(0);

      const logins = Array.from({ length: LOGINS }, () =>
        held(loginAgent, server.url, '/api/login', account),
      );
      // Awaited below; a reset must not also surface as an unhandled rejection if a wait fails first.
      for (const login of logins) login.answer.catch(() => undefined);
      // How each login ended, as it does: none may end before the test finishes its body.
      const ended: string[] = [];
      for (const login of logins)
        void login.answer.then(
          (answer) => ended.push(`answered ${answer.status}`),
          (err: NodeJS.ErrnoException) => ended.push(`failed: ${err.code ?? err.message}`),
        );
      // Every login is read by the server (its headers: it is in flight) before the signal.
      await Promise.all(logins.map((login) => login.started));
      await poll(
        async () => (requestsRead(server, 'POST', '/api/login') === LOGINS ? true : undefined),
        30_000,
        'the server to read the logins',
      );
      server.child.kill('SIGTERM');

      // readyz turns 503, on a fresh connection, while the logins are in flight.
      expect(await readyzTurned(server, 30_000)).toMatchObject({
        status: 503,
        code: 'ERR_UNAVAILABLE',
        retryAfter: expect.any(String),
      });
      // The delay ends and the listener closes: a new connection is refused, while the logins are still in flight.
      server.child.kill('SIGINT');
      await connectionsRefused(server);
      // The idle keep-alive connections are closed by the server then, not left for the client's timeout.
      await poll(
        async () =>
          [...idleSockets].every((socket) => socket.destroyed || socket.readyState === 'closed')
            ? true
            : undefined,
        10_000,
        'the idle keep-alive connections to close',
      );
      // The process is still draining: nothing has answered, reset or ended the logins, which only we can finish.
      expect({ ended, code: server.child.exitCode, signal: server.child.signalCode }).toEqual({
        ended: [],
        code: null,
        signal: null,
      });

      for (const login of logins) login.finish();
      const answers = await Promise.all(logins.map((login) => login.answer));
      // Every one answered, each after the signal, so each closes its connection.
      expect(answers).toEqual(answers.map(() => ({ status: 200, connection: 'close' })));

      const { code, signal } = await server.exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      // The drain ended because nothing was in flight, not by its timeout.
      expect(server.output()).not.toMatch(/drain timeout/);
      expect(server.output()).toMatch(/"abandoned":0,"closed":true,"msg":"shut down"/);
    } finally {
      idleAgent.destroy();
      loginAgent.destroy();
    }
  });

  it('ends the revocation stream with a reconnect hint, and exits within the drain timeout even if a client never finishes', async () => {
    const server = await start({
      JOT_DRAIN_TIMEOUT: '2s',
      // Longer than the test's timeout: only the drain can end the stuck request (its headers are all sent).
      JOT_REQUEST_TIMEOUT: '1h',
    });
    const connected = await connectedVerifier(server.url);
    verifier = connected.verifier;
    const before = verifier.stats().revocation.requests ?? 0;

    // A client that sends half a body and then nothing: only the drain timeout ends it.
    const { port } = new URL(server.url);
    const stuck = connect(Number(port), '127.0.0.1');
    stuck.on('error', () => undefined);
    const stuckClosed = new Promise<void>((done) => stuck.once('close', () => done()));
    await new Promise<void>((done) => stuck.once('connect', () => done()));
    stuck.write(
      'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"em',
    );
    // The stuck request is in flight once the server has read its headers.
    await poll(
      async () => (requestsRead(server, 'POST', '/api/login') === 1 ? true : undefined),
      30_000,
      'the server to read the stuck request',
    );

    const signalledAt = performance.now();
    server.child.kill('SIGTERM');
    // The verifier hears `event: shutdown` and goes to reconnect at once (here, to nowhere: there is one instance).
    await poll(
      async () =>
        connected.lines.some((line) => /shutting down; reconnecting/.test(line)) ? true : undefined,
      30_000,
      'the shutdown event',
    );
    const { code } = await server.exited;
    const elapsed = performance.now() - signalledAt;
    expect(code).toBe(0);
    // It waited the drain timeout for the stuck request (a timer may fire a little early)…
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    await stuckClosed;
    // …and then the drain cut it, and closing finished: the exit was not held by the client (nor by anything else).
    expect(server.output()).toMatch(/drain timeout: cutting the requests still in flight/);
    expect(server.output()).toMatch(/"abandoned":1,"closed":true,"msg":"shut down"/);
    // It tried to reconnect without a backoff step (the stream ended cleanly, not as a failure).
    await poll(
      async () =>
        (verifier!.stats().revocation.requests ?? 0) > before ||
        (verifier!.stats().revocation.failures ?? 0) > 0
          ? true
          : undefined,
      30_000,
      'a reconnect attempt',
    );
    // And the verifier closes meanwhile rather than hanging on the server it lost (its own tests time nothing
    // else: replicated-close.test.ts); a hang would outlast this.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      verifier.close().then(() => 'closed'),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still pending'), 10_000))),
    ]);
    clearTimeout(timer);
    expect(outcome).toBe('closed');
    verifier = undefined;
  });
});

describe('SIGTERM with JOT_DRAIN_DELAY', { timeout: TIMEOUT }, () => {
  // Requests a load balancer sends between the signal and noticing /readyz used to meet a closed listener or the
  // closing app's 503; now they are served, each on a connection the server then closes.
  it('keeps accepting and serving new connections with Connection: close for the delay, then exits 0 and refuses', async () => {
    const delayMs = 3000;
    const server = await start({ JOT_DRAIN_DELAY: '3s' });
    const signalledAt = performance.now();
    server.child.kill('SIGTERM');

    const readyz = await readyzTurned(server, delayMs);
    // After /readyz has turned, a request on a new connection is still answered, and told to go elsewhere next time.
    const served = await attempt(`${server.url}/healthz`);
    expect(served).toMatchObject({ status: 200, code: undefined, connection: 'close' });
    expect(readyz).toMatchObject({ status: 503, code: 'ERR_UNAVAILABLE', connection: 'close' });
    // A verifier the balancer sends back here is sent off again at once, on a connection that closes.
    const stream = await attempt(`${server.url}/api/revocations/stream`, {
      authorization: `Bearer ${SECRET}`,
    });
    expect(stream).toMatchObject({ status: 200, connection: 'close' });
    expect('body' in stream ? stream.body : '').toMatch(/event: shutdown/);

    const { code, signal } = await server.exited;
    const elapsed = performance.now() - signalledAt;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // It waited out the delay (a timer may fire a millisecond early), then closed: nothing was in flight (the log
    // line below: none abandoned to the drain timeout, and closing finished within its grace).
    expect(elapsed).toBeGreaterThanOrEqual(delayMs - 50);
    expect(await attempt(`${server.url}/healthz`)).toEqual({ error: 'ECONNREFUSED' });
    expect(server.output()).toMatch(/"abandoned":0,"closed":true,"msg":"shut down"/);
  });

  it('answers a request sent during the delay on a keep-alive connection opened before the signal', async () => {
    const server = await start({ JOT_DRAIN_DELAY: '60s' });
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    let ended = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => (ended = true));
    socket.on('error', () => undefined);
    const ask = (): void => void socket.write('GET /healthz HTTP/1.1\r\nHost: jot\r\n\r\n');
    try {
      ask();
      await poll(
        async () => (/\r\n\r\n\{"status":"ok"\}/.test(received) ? true : undefined),
        10_000,
        'a first answer',
      );
      expect(received).not.toMatch(/connection: close/i);

      server.child.kill('SIGTERM');
      expect(await readyzTurned(server, 10_000)).toMatchObject({ status: 503 });
      // The idle connection is still open: the balancer may send one more request over it (or already has).
      expect(ended).toBe(false);
      received = '';
      ask();
      await poll(
        async () => (/\{"status":"ok"\}/.test(received) ? true : undefined),
        10_000,
        'the second answer',
      );
      expect(received).toMatch(/^HTTP\/1\.1 200 /);
      expect(received).toMatch(/connection: close/i);
      // The server closes the connection after that answer.
      await poll(async () => (ended ? true : undefined), 10_000, 'the connection to close');
    } finally {
      socket.destroy();
      server.child.kill('SIGINT');
    }
  });

  it('ends the delay on a second signal: the request in flight is answered and the process exits 0', async () => {
    const server = await start({
      // Longer than the test's timeout: only the second signal can end it.
      JOT_DRAIN_DELAY: '1h',
      // A half-sent body is not cut by the request timeout while the test holds it.
      JOT_REQUEST_TIMEOUT: '300s',
      JOT_ARGON2_MEMORY_KIB: '1024',
      JOT_ARGON2_TIME_COST: '1',
    });
    const agent = new Agent({ keepAlive: true });
    // On a connection of its own, as a balancer's new one would be.
    const loginAgent = new Agent();
    try {
      const account = { email: 'a@example.com', password: PASSWORD };
      expect((await send(agent, server.url, 'POST', '/api/register', account)).status).toBe(201);
      server.child.kill('SIGTERM');
      expect(await readyzTurned(server, 30_000)).toMatchObject({ status: 503 });
      // A login, sent during the delay, is in flight (its body held back by the test) when the second signal comes.
      const login = held(loginAgent, server.url, '/api/login', account);
      // Awaited below; a reset must not also surface as an unhandled rejection if a wait fails first.
      login.answer.catch(() => undefined);
      let ended = false;
      void login.answer.finally(() => (ended = true)).catch(() => undefined);
      await login.started;
      await poll(
        async () => (requestsRead(server, 'POST', '/api/login') === 1 ? true : undefined),
        30_000,
        'the server to read the login',
      );
      server.child.kill('SIGINT');

      // The delay is over: the listener closes (an hour early), while the login is still in flight.
      await connectionsRefused(server);
      expect({ ended, code: server.child.exitCode, signal: server.child.signalCode }).toEqual({
        ended: false,
        code: null,
        signal: null,
      });
      login.finish();
      expect(await login.answer).toEqual({ status: 200, connection: 'close' });
      const { code, signal } = await server.exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(server.output()).toMatch(/SIGINT: ending the drain delay/);
      expect(server.output()).toMatch(/"abandoned":0,"closed":true,"msg":"shut down"/);
    } finally {
      agent.destroy();
      loginAgent.destroy();
    }
  });
});
