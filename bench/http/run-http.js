/**
 * The resource-server section of `npm run bench`: `GET /hello` behind a token check, served by bare Fastify (no
 * check), `@jot/verify` (with and without its verification cache), `@fastify/jwt`, `jose` with a remote JWKS and
 * Express + express-jwt + jwks-rsa — each in its own process, loaded by autocannon (50 connections) from this one,
 * in interleaved rounds. Reports requests/s and the server's CPU time per request, read from /proc.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID, verify as cryptoVerify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import autocannon from 'autocannon';

import { median, threadCpuSeconds } from '../lib/proc.js';
import { zipfSampler } from '../lib/zipf.js';
import { owned } from '../lib/children.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ISSUER = 'https://auth.bench';
const AUDIENCE = 'https://api.bench';
export const HTTP_ALGS = ['RS256', 'ES256'];
/**
 * `jot (inline)` and `jot (pool)` are diagnostics: Jot with every signature check on the event loop, and with every
 * one on the thread pool. Their difference is what the hop to the pool costs in this run (the uncached note's floor).
 * Every contender runs with libuv's pool sized as docs/verify.md advises a resource server ({@link POOL_THREADS});
 * the two `(default pool)` ones, Jot and jose (the contenders that verify on the pool), with Node's default of 4
 * threads, so the report shows what the setting is worth to each.
 */
export const CONTENDERS = [
  'bare',
  'jot',
  'jot (cache)',
  'fastify-jwt',
  'jose',
  'express-jwt',
  'jot (inline)',
  'jot (pool)',
  'jot (default pool)',
  'jose (default pool)',
];
/** The rivals of the uncached target, jose with either thread pool: each round takes the fastest of them. */
export const HTTP_RIVALS = ['jose', 'jose (default pool)', 'fastify-jwt'];
/** Node's thread pool size for a contender without the `(default pool)` suffix: every core but the event loop's. */
export const POOL_THREADS = Math.max(1, availableParallelism() - 1);
/** `UV_THREADPOOL_SIZE` for `contender` (undefined: Node's default of 4). */
export function poolThreadsOf(contender) {
  return contender.endsWith('(default pool)') ? undefined : POOL_THREADS;
}
/** Distinct tokens in the realistic-traffic run, drawn with a Zipf(1) distribution. */
export const DISTINCT_TOKENS = 10_000;

export const HTTP_PROFILES = {
  // Five short rounds rather than three long ones: more pairs for the per-round ratios, the same 15 s per contender.
  default: { rounds: 5, seconds: 3, connections: 50 },
  quick: { rounds: 1, seconds: 2, connections: 50 },
};

/** A key pair for `alg`, its public JWK (with `kid`) and a PEM file of the public key. */
function keyMaterial(alg, dir) {
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `bench-${alg}`;
  const pemFile = join(dir, `${alg}.pem`);
  writeFileSync(pemFile, publicKey.export({ format: 'pem', type: 'spki' }));
  return {
    publicKey,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
    kid,
    pemFile,
  };
}

/**
 * CPU µs of one bare `crypto.verify` of `token`'s signature in this process: no parsing, no claims, no HTTP — the
 * part of a guarded request no verifier can spend less on.
 */
function rawVerifyCpuUs(alg, publicKey, token) {
  const dot = token.lastIndexOf('.');
  const data = Buffer.from(token.slice(0, dot), 'latin1');
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  const key = alg.startsWith('ES') ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey;
  const once = () => {
    if (!cryptoVerify('sha256', data, key, signature))
      throw new Error(`raw ${alg} check refused the bench token`);
  };
  for (let i = 0; i < 50; i++) once();
  const count = 2000;
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) once();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

/** Serves the JWKS (and nothing else) on a loopback port. */
async function jwksServer(keys) {
  const body = JSON.stringify({ keys });
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/jwks.json`, close: () => server.close() };
}

/** Starts one contender process (its thread pool sized by {@link poolThreadsOf}) and waits for its port (or death). */
function startContender(name, alg, issuer, jwksUri, pemFile) {
  const env = { ...process.env };
  const threads = poolThreadsOf(name);
  if (threads === undefined) delete env.UV_THREADPOOL_SIZE;
  else env.UV_THREADPOOL_SIZE = String(threads);
  const child = owned(
    spawn(process.execPath, [join(HERE, 'server.js'), name, alg, issuer, jwksUri, pemFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    }),
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${match[1]}/hello` });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening`));
    });
  });
}

/**
 * One autocannon run. `traffic.token`: every request carries that token, in autocannon's fixed request (built once);
 * `traffic.pick()`: chooses each request's token, which rebuilds every request in the load generator. On 2 cores the
 * load generator's CPU is taken from the server's: in interleaved rounds on a 2-core host (2026-12-04) rebuilding
 * cost it 34-37 µs per request instead of 24-26, and cut the rate of a server that spends little per request (Jot, RS256: 15.0k instead of 19.3k req/s)
 * while one that spends more kept its own (jose: 13.9k and 14.1k) — so one token goes in the fixed request.
 */
async function load(url, traffic, profile) {
  const authorization = (token) => `Bearer ${token}`;
  const result = await autocannon({
    url,
    connections: profile.connections,
    duration: profile.seconds,
    ...(traffic.token !== undefined
      ? { headers: { authorization: authorization(traffic.token) } }
      : {
          requests: [
            {
              setupRequest(request) {
                request.headers = { ...request.headers, authorization: authorization(traffic.pick()) };
                return request;
              },
            },
          ],
        }),
  });
  return {
    ok: result['2xx'],
    bad: result.non2xx + result.errors + result.timeouts,
    seconds: result.duration,
  };
}

/** Checks a contender accepts the token and refuses a tampered one before it is timed. */
async function check(name, url, token) {
  const get = (t) => fetch(url, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.status);
  if ((await get(token)) !== 200) return `${name} refused a valid token`;
  if (name === 'bare') return undefined;
  const [h, p, s] = token.split('.');
  const tampered = `${h}.${p}.${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
  if ((await get(tampered)) !== 401) return `${name} accepted a tampered token`;
  return undefined;
}

/**
 * `alg`'s key material (`keyMaterial`, in `dir`), a JWKS server of its public key (close it when done) and
 * `tokenFor(i)`: an access token of user `i` signed with `jotLib` (the built `@jot/jose`), as an auth server issues it.
 */
export async function tokenIssuer(jotLib, alg, dir) {
  const material = keyMaterial(alg, dir);
  const jwks = await jwksServer([material.jwk]);
  const signer = jotLib.createSigner(jotLib.importPEM(material.privatePem, { alg, kid: material.kid }), {
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: '1h',
    typ: 'at+jwt',
  });
  const now = Math.floor(Date.now() / 1000);
  const tokenFor = (i) =>
    signer({ sub: `user-${i}`, sid: `s-${i}`, ver: 0, auth_time: now, jti: randomUUID(), scope: 'read' });
  return { material, jwks, tokenFor };
}

/**
 * Starts every contender for `alg` into `servers` (name → `{ child, url }`; the caller stops them, even when this
 * throws) and checks each with `token` (`check`). Returns the checks' failures.
 */
export async function startContenders(servers, alg, jwksUrl, pemFile, token) {
  const failures = [];
  for (const name of CONTENDERS) {
    const server = await startContender(name, alg, ISSUER, jwksUrl, pemFile);
    servers.set(name, server);
    const problem = await check(name, server.url, token);
    if (problem) failures.push(`${alg}: ${problem}`);
  }
  return failures;
}

/**
 * Runs the section. `jotLib` is the built `@jot/jose` (used to sign the tokens). Returns rows per algorithm:
 * `{ alg, rawVerifyUs, runs: [{ contender, traffic, rps, roundRps, cpuUs, mainCpuUs, loaderCpuUs, bad }] }` plus any failed checks
 * (`mainCpuUs`: the server's event-loop thread; `loaderCpuUs`: autocannon's, in this process; `rawVerifyUs`: one bare
 * signature check's CPU in this process), and `poolThreads` ({@link POOL_THREADS}). `algs`: some of {@link HTTP_ALGS}.
 */
export async function benchHttp(jotLib, profile, log, algs = HTTP_ALGS) {
  const dir = mkdtempSync(join(tmpdir(), 'jot-bench-http-'));
  const results = [];
  const failures = [];
  try {
    for (const alg of algs) {
      const { material, jwks, tokenFor } = await tokenIssuer(jotLib, alg, dir);
      log(`http ${alg}: signing ${DISTINCT_TOKENS} tokens…`);
      const tokens = Array.from({ length: DISTINCT_TOKENS }, (_, i) => tokenFor(i));
      const rawVerifyUs = rawVerifyCpuUs(alg, material.publicKey, tokens[0]);
      const zipf = zipfSampler(DISTINCT_TOKENS);
      const traffic = { 'one token': { token: tokens[0] }, 'Zipf 10k': { pick: () => tokens[zipf()] } };

      const servers = new Map();
      try {
        failures.push(...(await startContenders(servers, alg, jwks.url, material.pemFile, tokens[0])));
        const plan = [...CONTENDERS.map((c) => [c, 'one token']), ['bare', 'Zipf 10k'], ['jot', 'Zipf 10k']];
        plan.push(['jot (cache)', 'Zipf 10k']);
        const samples = new Map(plan.map(([c, t]) => [`${c}|${t}`, []]));
        for (let round = 0; round < profile.rounds; round++) {
          // Rotate the order each round so no contender always runs first (or right after the heaviest one).
          const order = plan.map((_, i) => plan[(i + round) % plan.length]);
          for (const [contender, kind] of order) {
            const { child, url } = servers.get(contender);
            const before = threadCpuSeconds(child.pid);
            // autocannon runs in this process: its CPU per request is what the load itself costs the machine.
            const loader = process.cpuUsage();
            const run = await load(url, traffic[kind], profile);
            const loaderUs = process.cpuUsage(loader);
            const after = threadCpuSeconds(child.pid);
            const perRequest = (us) => (run.ok > 0 ? us / run.ok : NaN);
            samples.get(`${contender}|${kind}`).push({
              rps: run.ok / run.seconds,
              cpuUs: perRequest((after.main + after.others - before.main - before.others) * 1e6),
              mainCpuUs: perRequest((after.main - before.main) * 1e6),
              loaderCpuUs: perRequest(loaderUs.user + loaderUs.system),
              bad: run.bad,
            });
            log(
              `http ${alg} round ${round + 1} ${contender} (${kind}): ${Math.round(run.ok / run.seconds)} req/s`,
            );
          }
        }
        results.push({
          alg,
          rawVerifyUs,
          runs: plan.map(([contender, kind]) => {
            const s = samples.get(`${contender}|${kind}`);
            return {
              contender,
              traffic: kind,
              rps: median(s.map((x) => x.rps)),
              // Per round, in plan order: the report pairs contenders round by round (see report-http.js).
              roundRps: s.map((x) => x.rps),
              cpuUs: median(s.map((x) => x.cpuUs)),
              mainCpuUs: median(s.map((x) => x.mainCpuUs)),
              loaderCpuUs: median(s.map((x) => x.loaderCpuUs)),
              bad: s.reduce((n, x) => n + x.bad, 0),
            };
          }),
        });
      } finally {
        for (const { child } of servers.values()) child.kill('SIGTERM');
        jwks.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { results, failures, poolThreads: POOL_THREADS };
}
