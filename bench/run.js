/**
 * `npm run bench`: sign and verify ops/s per algorithm for Jot, raw node:crypto, fast-jwt, jsonwebtoken and jose,
 * with Jot's overhead above raw node:crypto and fast-jwt's; a guarded HTTP route served by @jot/verify and its
 * rivals under autocannon (bench/http/); the auth server's endpoints per CPU-second (bench/auth/); then the revocation list of @jot/verify at 10 k, 100 k and 1 M entries
 * (heap per entry, check cost, ratio to the smallest list). Prints Markdown on stdout (progress on
 * stderr).
 *
 *   npm run bench                     full run (about 17–20 minutes on 2 quiet cores: core ~2.5–5 (an algorithm
 *                                     whose overhead interval is wider than its budget or does not resolve a
 *                                     target gets up to 60 s of extra rounds), HTTP ~4.5, auth ~3, growth ~4, propagation ~1.5, revocation and
 *                                     DPoP/JWE ~1.5; each section's time is logged on stderr as it ends)
 *   npm run bench -- --quick          short rounds, for a smoke test
 *   npm run bench -- --alg=HS256,ES256
 *   npm run bench -- --only=revocation   one section (jose, http, auth, growth, propagation, revocation, dpop-jwe)
 *   npm run bench -- --write          also write docs/benchmarks.md (a section not run keeps its previous text)
 *
 * Every target is judged with a stable id (bench/lib/targets.js); a missed one is printed with the reason it cannot be
 * met, computed from this run's figures by its note in bench/target-notes.js, and the run ends by logging them all.
 *
 * Imports the BUILT packages (packages/jose/dist, packages/verify/dist); builds them first when dist is missing or
 * older than src.
 *
 * The bench is not part of `npm test`, but packages/server/test/bench-scenarios.test.ts is: it runs the auth section's
 * scenarios (bench/auth/run-auth.js: `startServer`, `seed`, `scenarios`, `load`) for a few short rounds and the HTTP
 * section's contender check (bench/http/run-http.js, `startContenders`), and fails if any request is answered other
 * than 2xx — e.g. a server limit added later that the bench's load trips. It times nothing. A change to those
 * exports is a change to that test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { PROFILES, measureGroup } from './harness.js';
import { ALGS, AUDIENCE, CLAIMS, ISSUER, LIFETIME, makeKeys } from './fixtures.js';
import {
  busyNote,
  contentionText,
  machine,
  renderDocument,
  renderRevocation,
  renderTables,
  overheadExtension,
  REVOCATION_HEADING,
  headOf,
  sectionOf,
} from './report.js';
import { HTTP_ALGS, HTTP_PROFILES, benchHttp } from './http/run-http.js';
import { HTTP_HEADING, renderHttp } from './http/report-http.js';
import { AUTH_PROFILES, benchAuth } from './auth/run-auth.js';
import { AUTH_HEADING, renderAuth } from './auth/report-auth.js';
import { GROWTH_HEADING, GROWTH_PROFILES, benchGrowth, renderGrowth } from './auth/growth.js';
import { PROPAGATION_HEADING, benchPropagation, renderPropagation } from './propagation.js';
import { PROBES, benchRevocation } from './revocation.js';
import { SENDER_HEADING, benchSenderConstraint, renderSenderConstraint } from './sender-constraint.js';
import { missedSummary } from './lib/targets.js';
import { contentionMeter } from './lib/proc.js';
import { anchorText, driftNote, hostAnchors } from './lib/host-anchor.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const JOSE = join(ROOT, 'packages/jose');
const VERIFY = join(ROOT, 'packages/verify');
const DOC = join(ROOT, 'docs/benchmarks.md');
const SECTIONS = ['jose', 'http', 'auth', 'growth', 'propagation', 'revocation', 'dpop-jwe'];
const log = (...args) => console.error(...args);

function parseArgs(argv) {
  const args = { quick: false, write: false, algs: ALGS, only: SECTIONS };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg === '--write') args.write = true;
    else if (arg.startsWith('--only=')) {
      args.only = arg.slice(7).split(',');
      const unknown = args.only.filter((section) => !SECTIONS.includes(section));
      if (unknown.length || args.only.length === 0)
        throw new Error(`unknown section(s): ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
    } else if (arg.startsWith('--alg=')) {
      args.algs = arg.slice(6).split(',');
      const unknown = args.algs.filter((alg) => !ALGS.includes(alg));
      if (unknown.length)
        throw new Error(`unknown algorithm(s): ${unknown.join(', ')}; known: ${ALGS.join(', ')}`);
    } else if (arg === '--help' || arg === '-h') {
      console.log(
        'usage: npm run bench -- [--quick] [--write] [--alg=HS256,ES256,...] [--only=jose,revocation]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return args;
}

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * Builds packages/<name> (and, through `tsc -b`, the packages it references) when its dist is missing or any source
 * or tsconfig of it or of `references` is newer than its last build.
 */
function ensureBuilt(name, references = []) {
  const dir = join(ROOT, 'packages', name);
  const stamp = join(dir, 'dist/.tsbuildinfo');
  const inputs = [name, ...references]
    .flatMap((pkg) => [
      join(ROOT, 'packages', pkg, 'src'),
      join(ROOT, 'packages', pkg, 'tsconfig.build.json'),
    ])
    .concat(join(ROOT, 'tsconfig.base.json'));
  const fresh =
    existsSync(join(dir, 'dist/index.js')) &&
    existsSync(stamp) &&
    Math.max(...inputs.map(newestMtime)) <= statSync(stamp).mtimeMs;
  if (fresh) return;
  log(`building packages/${name} (dist missing or stale)…`);
  const config = `packages/${name}/tsconfig.build.json`;
  const result = spawnSync('npx', ['tsc', '-b', config], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`tsc -b ${config} failed (exit ${result.status}); not benchmarking stale code`);
  }
}

const ONE_SHOT = 'Jot verify()';

function hzOf(results) {
  return new Map([...results].map(([name, { hz }]) => [name, hz]));
}

function logGroup(alg, op, results) {
  for (const [name, { hz, spread }] of results) {
    log(`${alg} ${op} ${name}: ${Math.round(hz)} ops/s (rounds within ±${(spread * 50).toFixed(1)}%)`);
  }
}

/** Runs `fn` once (awaiting it when async) and returns its result, or the error it threw. */
async function attempt(fn) {
  try {
    return { value: await fn() };
  } catch (error) {
    return { error };
  }
}

function accepted(result) {
  return result === true || result?.sub === CLAIMS.sub || result?.payload?.sub === CLAIMS.sub;
}

/** Changes one character in the middle of the payload segment, keeping it canonical base64url. */
function tamper(token) {
  const [h, p, s] = token.split('.');
  const i = p.length >> 1;
  return `${h}.${p.slice(0, i)}${p[i] === 'A' ? 'B' : 'A'}${p.slice(i + 1)}.${s}`;
}

/** One algorithm's shared context: its keys for Jot, a token signed by Jot, its signing input and signature. */
function algContext(jotLib, alg, material) {
  const jotKeys = alg.startsWith('HS')
    ? {
        sign: jotLib.importSecret(material.secret, { alg }),
        verify: jotLib.importSecret(material.secret, { alg }),
      }
    : {
        sign: jotLib.importPEM(material.privatePem, { alg }),
        verify: jotLib.importPEM(material.publicPem, { alg }),
      };
  const token = jotLib.createSigner(jotKeys.sign, {
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: LIFETIME,
  })(CLAIMS);
  const signingInput = token.slice(0, token.lastIndexOf('.'));
  return {
    alg,
    material,
    jotLib,
    jotKeys,
    kid: jotKeys.sign.kid,
    token,
    signingInput,
    data: Buffer.from(signingInput, 'latin1'),
    signature: Buffer.from(token.slice(signingInput.length + 1), 'base64url'),
  };
}

/**
 * The verifiers that accept the context's token and (all but raw node:crypto) reject a tampered copy, as harness
 * entries; the others are reported in `failures` and left out.
 */
async function checkedVerifiers(ctx, verifiers, failures) {
  const entries = [];
  for (const contender of verifiers) {
    const fn = await contender.verify(ctx);
    if (fn === null) continue;
    const ok = await attempt(fn);
    if (ok.error || !accepted(ok.value)) {
      const why = ok.error?.message ?? 'bad result';
      failures.push(`${contender.name} ${ctx.alg} verify: did not accept the token (${why})`);
      continue;
    }
    if (contender.name !== 'node:crypto') {
      const rejected = await attempt(await contender.verify({ ...ctx, token: tamper(ctx.token) }));
      if (!rejected.error && rejected.value !== false) {
        failures.push(`${contender.name} ${ctx.alg} verify: accepted a tampered token`);
        continue;
      }
    }
    entries.push({ name: contender.name, fn, async: contender.async });
  }
  return entries;
}

/** The signers whose tokens verify with Jot (`jotVerify`), as harness entries; the others go to `failures`. */
async function checkedSigners(ctx, signers, jotVerify, failures) {
  const entries = [];
  for (const contender of signers) {
    const fn = await contender.sign(ctx);
    if (fn === null) continue;
    const made = await attempt(fn);
    const check =
      made.error ??
      (contender.name === 'node:crypto' ? undefined : (await attempt(() => jotVerify(made.value))).error);
    if (check) {
      failures.push(
        `${contender.name} ${ctx.alg} sign: its token does not verify with Jot (${check.message})`,
      );
      continue;
    }
    entries.push({ name: contender.name, fn, async: contender.async });
  }
  return entries;
}

/** The @jot/jose section: every contender, every algorithm. */
async function runJose(args, profile) {
  ensureBuilt('jose');
  const jotLib = await import(pathToFileURL(join(JOSE, 'dist/index.js')).href);
  const { SIGNERS, VERIFIERS } = await import('./contenders.js');
  log(`keys…`);
  const keys = makeKeys(args.algs);
  const contended = contentionMeter();
  const verify = new Map();
  const verifyCpu = new Map();
  const verifyExtended = new Map();
  const sign = new Map();
  const failures = [];
  let oneShot;
  let payloadBytes;
  const oneShotAlg = args.algs.includes('HS256') ? 'HS256' : args.algs[0];

  for (const alg of args.algs) {
    const ctx = algContext(jotLib, alg, keys.get(alg));
    payloadBytes ??= Buffer.from(ctx.signingInput.split('.')[1], 'base64url').length;
    const options = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE };
    const jotVerify = jotLib.createVerifier(ctx.jotKeys.verify, options);
    const entries = await checkedVerifiers(ctx, VERIFIERS, failures);
    if (alg === oneShotAlg)
      entries.push({
        name: ONE_SHOT,
        fn: () => jotLib.verify(ctx.token, ctx.jotKeys.verify, { ...options }),
      });
    const verified = await measureGroup(entries, profile, overheadExtension(alg, profile));
    logGroup(alg, 'verify', verified);
    verify.set(alg, hzOf(verified));
    verifyCpu.set(alg, new Map([...verified].map(([name, { cpuNs }]) => [name, cpuNs])));
    const extended = verified.get('Jot')?.extended;
    if (extended !== undefined) verifyExtended.set(alg, extended);
    if (extended?.extraRounds) {
      log(`${alg} verify: ${extended.extraRounds} extra rounds${extended.capHit ? ' (cap reached)' : ''}`);
    }
    if (verified.has(ONE_SHOT)) oneShot = { alg, hz: verified.get(ONE_SHOT).hz };

    const signed = await measureGroup(await checkedSigners(ctx, SIGNERS, jotVerify, failures), profile);
    logGroup(alg, 'sign', signed);
    sign.set(alg, hzOf(signed));
  }

  const contention = contended();
  if (contention !== undefined) log(`core section: ${contentionText(contention)} competing`);
  const { markdown, missed, charts } = renderTables({
    algs: args.algs,
    verify,
    verifyCpu,
    verifyExtended,
    sign,
    verifierNames: VERIFIERS.map((c) => c.name),
    signerNames: SIGNERS.map((c) => c.name),
    oneShot,
  });
  const require = createRequire(import.meta.url);
  const versions = ['fast-jwt', 'jsonwebtoken', 'jose']
    .map((name) => `${name} ${require(`${name}/package.json`).version}`)
    .join(', ');
  return { markdown, missed, charts, failures, versions, payloadBytes, contention };
}

/** The resource-server section: HTTP contenders under autocannon, in their own processes. */
async function runHttp(args) {
  ensureBuilt('verify', ['jose']);
  const jotLib = await import(pathToFileURL(join(JOSE, 'dist/index.js')).href);
  const profile = args.quick ? HTTP_PROFILES.quick : HTTP_PROFILES.default;
  // --alg narrows this section too; it measures only RS256 and ES256.
  const algs = HTTP_ALGS.filter((alg) => args.algs.includes(alg));
  if (algs.length === 0)
    throw new Error(`the http section measures ${HTTP_ALGS.join(' and ')}: add one to --alg`);
  return renderHttp(await benchHttp(jotLib, profile, log, algs), profile);
}

/** The auth-server section: the built jot-server on SQLite and PostgreSQL under autocannon. */
async function runAuth(args) {
  ensureBuilt('server', ['jose']);
  const profile = args.quick ? AUTH_PROFILES.quick : AUTH_PROFILES.default;
  return renderAuth(await benchAuth(profile, log), profile);
}

/** The growth section: the auth server's throughput with 1 k → 1 M users and sessions. */
async function runGrowth(args) {
  ensureBuilt('server', ['jose']);
  const profile = args.quick
    ? { ...AUTH_PROFILES.quick, ...GROWTH_PROFILES.quick }
    : { ...AUTH_PROFILES.default, ...GROWTH_PROFILES.default };
  return renderGrowth(await benchGrowth(profile, log), profile);
}

/** The propagation section: logout on one instance → refusal at 1, 4 and 8 replicated verifiers. */
async function runPropagation(args) {
  ensureBuilt('server', ['jose']);
  ensureBuilt('verify', ['jose']);
  const verifyLib = await import(pathToFileURL(join(VERIFY, 'dist/index.js')).href);
  return renderPropagation(await benchPropagation(verifyLib, { samples: args.quick ? 10 : 100 }, log));
}

/** The DPoP and JWE section: per-request cost of sender-constrained and encrypted tokens. */
async function runSenderConstraint(profile) {
  ensureBuilt('jose', []);
  const jose = await import(pathToFileURL(join(JOSE, 'dist/index.js')).href);
  return renderSenderConstraint(await benchSenderConstraint(jose, profile, log));
}

/** The @jot/verify revocation-list section. */
async function runRevocation(profile, info) {
  ensureBuilt('verify', ['jose']);
  // The replicated copy itself: internal to @jot/verify, so read from its built module rather than the index.
  const stateLib = await import(pathToFileURL(join(VERIFY, 'dist/revocation/state.js')).href);
  const started = Date.now();
  const rows = await benchRevocation(stateLib, profile, log);
  const durationS = (Date.now() - started) / 1000;
  return renderRevocation(rows, { info, profile, durationS, probes: PROBES });
}

/** Prints the run's Markdown on stdout: the header line, then every section that ran. */
function printReport(run) {
  const { info, durationS, loadBefore, loadAfter, anchors, failures, results } = run;
  const { jose, http, auth, growth, propagation, revocation, sender } = results;
  console.log(
    `${info.cpu} · ${info.cores} cores · Node ${info.node} · OpenSSL ${info.openssl} · ${durationS.toFixed(0)} s` +
      ` · load ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)} · ${anchorText(anchors.start, anchors.end)}\n`,
  );
  const busy = busyNote(info.cores, loadBefore, jose?.contention) + driftNote(anchors.start, anchors.end);
  if (busy !== '' || jose !== undefined) console.log(busy + (jose?.markdown ?? ''));
  if (failures.length)
    console.log(`### Not measured (checks failed)\n\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
  for (const section of [http, auth, growth, propagation, revocation])
    if (section !== undefined) console.log(section.markdown);
  if (sender !== undefined) console.log(sender);
}

/** Writes docs/benchmarks.md (and the charts): the sections that ran, the others as the document had them. */
function writeDocument(args, run) {
  const { info, profile, durationS, loadBefore, anchors, failures, results } = run;
  const { jose, http, auth, growth, propagation, revocation, sender } = results;
  if (args.quick || args.algs !== ALGS || args.only !== SECTIONS)
    log('note: writing a --quick or partial run to docs/benchmarks.md');
  const previous = existsSync(DOC) ? readFileSync(DOC, 'utf8') : undefined;
  const doc =
    jose === undefined
      ? (previous ??
        '# Benchmarks\n\nGenerated by `npm run bench -- --write` (`bench/run.js`); do not edit by hand.\n')
      : renderDocument({
          tables: jose.markdown,
          info,
          profile,
          durationS,
          loadBefore,
          anchors,
          contention: jose.contention,
          versions: jose.versions,
          payloadBytes: jose.payloadBytes,
        }) + (failures.length ? `\nChecks failed:\n\n${failures.map((f) => `- ${f}`).join('\n')}\n` : '');
  // A section that did not run keeps what the document said before.
  const tail = [
    http?.markdown ?? sectionOf(previous, HTTP_HEADING),
    auth?.markdown ?? sectionOf(previous, AUTH_HEADING),
    growth?.markdown ?? sectionOf(previous, GROWTH_HEADING),
    propagation?.markdown ?? sectionOf(previous, PROPAGATION_HEADING),
    revocation?.markdown ?? sectionOf(previous, REVOCATION_HEADING),
    sender ?? sectionOf(previous, SENDER_HEADING),
  ].filter((section) => section !== undefined);
  for (const { file, svg } of [...(jose?.charts ?? []), ...(http?.charts ?? [])]) {
    mkdirSync(dirname(join(ROOT, 'docs', file)), { recursive: true });
    writeFileSync(join(ROOT, 'docs', file), svg);
  }
  const headings = [
    HTTP_HEADING,
    AUTH_HEADING,
    GROWTH_HEADING,
    PROPAGATION_HEADING,
    REVOCATION_HEADING,
    SENDER_HEADING,
  ];
  writeFileSync(DOC, [headOf(doc, headings), ...tail].join('\n'));
  log('wrote docs/benchmarks.md');
}

/** Runs the selected sections in order, logging how long each took (the full run's budget is planned from these). */
async function runSections(args, profile, info) {
  const timings = [];
  const section = async (name, run) => {
    if (!args.only.includes(name)) return undefined;
    const at = Date.now();
    const result = await run();
    timings.push(`${name} ${((Date.now() - at) / 1000).toFixed(0)} s`);
    log(`section ${timings.at(-1)}`);
    return result;
  };
  const results = {};
  results.jose = await section('jose', () => runJose(args, profile));
  results.http = await section('http', () => runHttp(args));
  results.auth = await section('auth', () => runAuth(args));
  results.growth = await section('growth', () => runGrowth(args));
  results.propagation = await section('propagation', () => runPropagation(args));
  results.revocation = await section('revocation', () => runRevocation(profile, info));
  results.sender = await section('dpop-jwe', () => runSenderConstraint(profile));
  return { results, timings };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const profile = args.quick ? PROFILES.quick : PROFILES.default;
  const started = Date.now();
  const loadBefore = os.loadavg()[0];
  const info = machine();
  const anchorsAtStart = await hostAnchors();
  const { results, timings } = await runSections(args, profile, info);
  const anchors = { start: anchorsAtStart, end: await hostAnchors() };
  const durationS = (Date.now() - started) / 1000;
  log(`sections: ${timings.join(', ')}; total ${durationS.toFixed(0)} s`);
  const loadAfter = os.loadavg()[0];
  const failures = results.jose?.failures ?? [];
  const run = { info, profile, durationS, loadBefore, loadAfter, anchors, failures, results };
  printReport(run);
  if (args.write) writeDocument(args, run);
  if (failures.length || results.http?.failures.length) process.exitCode = 1;
  // Every missed target with its id and measured reason (bench/target-notes.js), as the Markdown above has them.
  const { jose, http, auth, growth, propagation, revocation } = results;
  log(
    missedSummary(
      [jose, http, auth, growth, propagation, revocation].flatMap((section) => section?.missed ?? []),
    ),
  );
}

if (typeof globalThis.gc !== 'function') {
  // Rounds are separated by a full GC; re-run ourselves with the flag when started without it (plain `node`).
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(child.status ?? 1);
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
