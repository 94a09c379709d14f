/**
 * Turns measurements into Markdown: one table for verify, one for sign, the ratios to the anchors (raw node:crypto
 * and fast-jwt) and the list of targets missed. The same text goes to stdout and to docs/benchmarks.md.
 */
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { anchorText, driftNote, referenceText } from './lib/host-anchor.js';
import { barChart } from './lib/svg.js';
import { createTargets } from './lib/targets.js';

/**
 * Jot verify targets, stated as overhead: the microseconds a verify spends above the raw signature operation on the
 * same machine (base64url, JSON, header and claim checks). A ratio to raw node:crypto cannot be met for HMAC by any
 * JWT library (parsing alone costs about half of an HMAC), so the overhead is what Jot controls.
 */
export const TARGETS = { overheadUs: { HS: 3, ES: 3, Ed: 3, RS: 4, PS: 4 }, ofFastJwt: 0.5 };

/** The overhead budget for `alg` in µs. */
export function overheadBudget(alg) {
  return TARGETS.overheadUs[alg.slice(0, 2)] ?? 4;
}

/** µs per operation above the anchor's, from two rates in ops/s. */
export function overheadUs(hz, anchorHz) {
  return hz === undefined || anchorHz === undefined ? undefined : 1e6 / hz - 1e6 / anchorHz;
}

/** P(X ≤ k) for X ~ Binomial(n, 1/2). */
function binomialCdf(k, n) {
  let term = 0.5 ** n;
  let sum = term;
  for (let i = 1; i <= k; i++) {
    term = (term * (n - i + 1)) / i;
    sum += term;
  }
  return sum;
}

/**
 * The median of `values` and a distribution-free confidence interval for it (order statistics, ≥ 95 % where n
 * allows: n = 15 gives the 4th to 12th smallest, 96 %).
 */
export function medianInterval(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mid = n >> 1;
  const median = n % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  let k = 0;
  while (k + 1 < mid && binomialCdf(k, n) < 0.025) k += 1;
  // k is the first rank whose tail reaches 2.5 %: the interval runs from sorted[k - 1] (at least the minimum).
  const low = sorted[Math.max(0, k - 1)];
  const high = sorted[n - Math.max(1, k)];
  return { median, low, high };
}

/**
 * A contender's overhead above the raw operation in µs, paired round by round: round i of both was timed within
 * the same interleaved pass, so a burst of other work shifts both. CPU time per operation, not the wall clock.
 * Falls back to the two median rates when per-round CPU times are missing.
 */
export function pairedOverheadUs(cpuNs, rawCpuNs, hz, rawHz) {
  if (
    !Array.isArray(cpuNs) ||
    !Array.isArray(rawCpuNs) ||
    cpuNs.length !== rawCpuNs.length ||
    !cpuNs.length
  ) {
    const us = overheadUs(hz, rawHz);
    return us === undefined ? undefined : { median: us, low: undefined, high: undefined };
  }
  return medianInterval(cpuNs.map((ns, i) => (ns - rawCpuNs[i]) / 1000));
}

/**
 * The verify contenders whose overheads the targets judge (the floor explains them): a group that needs more rounds
 * times only these.
 */
export const OVERHEAD_NAMES = ['Jot', 'node:crypto', 'floor', 'fast-jwt'];

/**
 * `measureGroup`'s `extend` for one algorithm's verify group: extra paired rounds of Jot, raw node:crypto and
 * fast-jwt while the 95 % interval of Jot's or fast-jwt's overhead is wider than the algorithm's budget (a slow raw
 * operation's noise hides a few µs), or while the rounds do not yet resolve a target — Jot's interval straddles its
 * budget, or it overlaps half of fast-jwt's interval — up to the profile's cap. None in a profile without a cap
 * (`--quick`). Where the cap ends the rounds, the notes say so.
 */
export function overheadExtension(alg, profile) {
  if (!profile.extendCapMs) return undefined;
  const budget = overheadBudget(alg);
  const paired = (cpu, name) => pairedOverheadUs(cpu.get(name), cpu.get('node:crypto'));
  const resolved = (cpu) => {
    const jot = paired(cpu, 'Jot');
    const fast = paired(cpu, 'fast-jwt');
    if (jot?.low === undefined || fast?.low === undefined) return true;
    if (jot.high - jot.low >= budget || fast.high - fast.low >= budget) return false;
    const budgetResolved = jot.high <= budget || jot.low > budget;
    const halfResolved = jot.high <= fast.low * TARGETS.ofFastJwt || jot.low > fast.high * TARGETS.ofFastJwt;
    return budgetResolved && halfResolved;
  };
  return { names: OVERHEAD_NAMES, capMs: profile.extendCapMs, done: resolved };
}

/** ` (a–b)`: the 95 % interval of a paired overhead, when there is one. */
const fmtInterval = (paired) =>
  paired?.low === undefined ? '' : ` (${paired.low.toFixed(1)}–${paired.high.toFixed(1)})`;

const fmtUs = (us, ok) => {
  if (us === undefined) return 'n/a';
  const text = `${us.toFixed(2)} µs`;
  if (ok === undefined) return text;
  return ok ? `${text} ✅` : `**${text}** ❌`;
};

const fmtHz = (hz) => (hz === undefined ? 'n/a' : Math.round(hz).toLocaleString('en-US'));

function ratio(a, b) {
  return a === undefined || b === undefined ? undefined : a / b;
}

function fmtRatio(value, target) {
  if (value === undefined) return 'n/a';
  const text = `${value.toFixed(2)}×`;
  if (target === undefined) return text;
  return value >= target ? `${text} ✅` : `**${text}** ❌`;
}

function table(header, rows) {
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/**
 * One algorithm's verify row, judging its two targets with `targets` (their list items go to `targetLines`) and
 * adding its bars to `bars`.
 */
function verifyRow(alg, row, cpu, extended, verifierNames, { targets, targetLines, bars }) {
  const raw = row.get('node:crypto');
  const rawCpu = cpu.get('node:crypto');
  const jotPaired = pairedOverheadUs(cpu.get('Jot'), rawCpu, row.get('Jot'), raw);
  const fastPaired = pairedOverheadUs(cpu.get('fast-jwt'), rawCpu, row.get('fast-jwt'), raw);
  const floorPaired = pairedOverheadUs(cpu.get('floor'), rawCpu, row.get('floor'), raw);
  const jot = jotPaired?.median;
  const fast = fastPaired?.median;
  bars.push({ label: `${alg} Jot`, value: jot, accent: true }, { label: `${alg} fast-jwt`, value: fast });
  const budget = overheadBudget(alg);
  const withinBudget = jot === undefined ? undefined : jot <= budget;
  const halfOfFast = jot === undefined || fast === undefined ? undefined : jot <= fast * TARGETS.ofFastJwt;
  const figures = {
    alg,
    jotUs: jot,
    fastUs: fast,
    budgetUs: budget,
    rawHz: raw,
    jotHz: row.get('Jot'),
    jotLowUs: jotPaired?.low,
    jotHighUs: jotPaired?.high,
    fastLowUs: fastPaired?.low,
    fastHighUs: fastPaired?.high,
    floorUs: floorPaired?.median,
    floorLowUs: floorPaired?.low,
    floorHighUs: floorPaired?.high,
    rawCpuUs: rawCpu === undefined ? undefined : medianInterval(rawCpu).median / 1000,
    rounds: rawCpu?.length,
    extraRounds: extended?.extraRounds ?? 0,
    capHit: extended?.capHit ?? false,
    capS: extended === undefined ? undefined : extended.capMs / 1000,
  };
  if (withinBudget !== undefined) {
    const text = `${alg} verify: ${jot.toFixed(2)} µs over raw (budget ${budget} µs)`;
    targetLines.push(targets.check(`core.verify-overhead.${alg}`, withinBudget, text, figures));
  }
  if (halfOfFast !== undefined) {
    const text = `${alg} verify: ${jot.toFixed(2)} µs over raw, fast-jwt ${fast.toFixed(2)} µs (target ≤ half)`;
    targetLines.push(targets.check(`core.vs-fast-jwt.${alg}`, halfOfFast, text, figures));
  }
  return [
    alg,
    ...verifierNames.map((name) => fmtHz(row.get(name))),
    fmtUs(jot, withinBudget) + fmtInterval(jotPaired),
    fmtUs(floorPaired?.median) + fmtInterval(floorPaired),
    fmtUs(fast, halfOfFast) + fmtInterval(fastPaired),
    fmtRatio(ratio(row.get('Jot'), row.get('fast-jwt'))),
  ];
}

/** `: in this run ES384 115 rounds (cap of 60 s reached), …` for the extended algorithms. */
function extendedSentence(algs, rounds, extendedByAlg) {
  const items = algs
    .filter((alg) => extendedByAlg?.get(alg)?.extraRounds)
    .map((alg) => {
      const { extraRounds, capHit, capMs } = extendedByAlg.get(alg);
      const total = rounds.get(alg);
      const count = total === undefined ? `${extraRounds} extra rounds` : `${total} rounds`;
      return `${alg} ${count}${capHit ? ` (cap of ${capMs / 1000} s reached)` : ''}`;
    });
  if (!extendedByAlg?.size) return ' (not in a `--quick` run).';
  return items.length === 0 ? '; in this run none needed them.' : `: in this run ${items.join(', ')}.`;
}

/** One algorithm's sign row. */
function signRow(alg, row, signerNames) {
  return [
    alg,
    ...signerNames.map((name) => fmtHz(row.get(name))),
    fmtRatio(ratio(row.get('Jot'), row.get('node:crypto'))),
    fmtRatio(ratio(row.get('Jot'), row.get('fast-jwt'))),
  ];
}

/** The one-shot `verify()` line, or nothing. */
function oneShotLines(oneShot, verify) {
  if (!oneShot) return [];
  const { alg, hz } = oneShot;
  const prepared = verify.get(alg)?.get('Jot');
  return [
    `One-shot \`verify(token, key, options)\` (${alg}, verifier rebuilt on every call): ${fmtHz(hz)} ops/s` +
      (prepared ? ` (${(hz / prepared).toFixed(2)}× the prepared \`createVerifier\`).` : '.'),
    '',
  ];
}

/**
 * @param {{ algs: string[], verify: Map<string, Map<string, number>>, sign: Map<string, Map<string, number>>,
 *   verifierNames: string[], signerNames: string[], oneShot?: { alg: string, hz: number }, facts?: object,
 *   verifyCpu?: Map<string, Map<string, number[]>> }} results (`verifyCpu`: CPU ns per operation of each round)
 */
export function renderTables(results) {
  const { algs, verify, sign, verifierNames, signerNames } = results;
  // `results.facts`: figures a section measured only to explain its targets (see bench/target-notes.js).
  const judged = { targets: createTargets(results.facts), targetLines: [], bars: [] };
  const cpuOf = (alg) => results.verifyCpu?.get(alg) ?? new Map();
  const extendedOf = (alg) => results.verifyExtended?.get(alg);
  const roundsOf = new Map(algs.map((alg) => [alg, cpuOf(alg).get('node:crypto')?.length]));
  const verifyRows = algs.map((alg) =>
    verifyRow(alg, verify.get(alg), cpuOf(alg), extendedOf(alg), verifierNames, judged),
  );
  const signRows = algs.map((alg) => signRow(alg, sign.get(alg), signerNames));
  const chart = {
    file: 'bench/verify-overhead.svg',
    svg: barChart({
      title: 'Verify overhead above the raw signature operation',
      unit: 'µs per token (lower is better)',
      bars: judged.bars,
      format: (v) => `${v.toFixed(2)} µs`,
    }),
  };
  // The met ones show as ✅ in the table; the list names the missed ones, each with its reason.
  const { targets, targetLines } = judged;
  const missedLines = targetLines.filter((_, i) => !targets.results[i].ok);
  const parts = [
    '### Verify (ops/s, median)',
    '',
    table(
      ['alg', ...verifierNames, 'Jot over raw', 'floor over raw', 'fast-jwt over raw', 'Jot/fast-jwt'],
      verifyRows,
    ),
    '',
    '"over raw": the median over the rounds of (CPU time per verify − CPU time per raw signature check of the same ' +
      'round), in µs, with the 95 % interval of that median in brackets. Where the raw operation itself takes ' +
      'hundreds of µs (ES384, ES512) its round-to-round noise is larger than a few µs of overhead, and the interval ' +
      'says so. Where an interval is still wider than the budget after the usual rounds, or the rounds do not yet ' +
      "resolve a target (Jot's interval straddles its budget or overlaps half of fast-jwt's), Jot, node:crypto, the " +
      'floor and fast-jwt get more interleaved rounds (the same paired method, only those four) until the intervals ' +
      'are narrower than the budget and resolve both targets, or a time cap is reached' +
      extendedSentence(algs, roundsOf, results.verifyExtended),
    '',
    ...oneShotLines(results.oneShot, verify),
    '### Sign (ops/s, median)',
    '',
    table(['alg', ...signerNames, 'Jot/raw', 'Jot/fast-jwt'], signRows),
    '',
    `### Targets (Jot verify overhead above the raw signature operation ≤ ${TARGETS.overheadUs.HS} µs for ` +
      `HS/ES/EdDSA, ≤ ${TARGETS.overheadUs.RS} µs for RS/PS, and ≤ ${TARGETS.ofFastJwt}× fast-jwt's overhead without its cache)`,
    '',
    missedLines.length === 0 ? 'All met.' : missedLines.join('\n'),
    '',
    `![Verify overhead per algorithm](${chart.file})`,
    '',
  ];
  return { markdown: parts.join('\n'), missed: targets.missed, charts: [chart] };
}

/** The machine and runtime, for the report header. */
export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.versions.node,
    openssl: process.versions.openssl,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

/**
 * A warning when other work was competing for the CPU: a 1-minute load above half the cores before the run started
 * (the run's own load afterwards says nothing), or other processes and the hypervisor's steal taking a quarter of a
 * core or more while the core section was timed (`contention` from `contentionMeter`, when that section ran).
 */
export function busyNote(cores, loadBefore, contention) {
  const reasons = [];
  if (loadBefore >= cores * 0.5)
    reasons.push(`1-minute load ${loadBefore.toFixed(2)} on ${cores} cores before the run`);
  const taken = contention === undefined ? 0 : contention.otherCores + contention.stealCores;
  if (taken >= 0.25) reasons.push(`${contentionText(contention)} while the core section was timed`);
  if (reasons.length === 0) return '';
  return (
    `> **The machine was busy** (${reasons.join('; ')}): absolute numbers are lower and ` +
    'noisier than on an idle machine. Contenders of one row are timed in interleaved rounds, so the ratios are ' +
    'affected much less than the absolute numbers.\n\n'
  );
}

/** "other processes 0.02 cores, hypervisor steal 0.00 cores". */
export function contentionText({ otherCores, stealCores }) {
  return `other processes ${otherCores.toFixed(2)} cores, hypervisor steal ${stealCores.toFixed(2)} cores`;
}

/** Earlier full runs kept as generated (docs/bench/runs/*.md), listed under the document's opening. */
const RUNS = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'bench', 'runs');

/** "\nRuns on other hosts, kept as they were generated: [2026-12-03-xeon](bench/runs/2026-12-03-xeon.md).\n" or "". */
function otherRuns() {
  const runs = existsSync(RUNS)
    ? readdirSync(RUNS)
        .filter((name) => name.endsWith('.md'))
        .sort()
    : [];
  if (runs.length === 0) return '';
  const links = runs.map((name) => `[${name.slice(0, -3)}](bench/runs/${name})`).join(', ');
  return `\nRuns on other hosts, kept as they were generated: ${links}.\n`;
}

/** The whole docs/benchmarks.md. */
export function renderDocument({
  tables,
  info,
  profile,
  durationS,
  loadBefore,
  anchors,
  contention,
  versions,
  payloadBytes,
}) {
  return `# Benchmarks

Generated by \`npm run bench -- --write\` (\`bench/run.js\`); do not edit by hand. Re-run it on your own machine:
absolute numbers depend on the CPU, the ratios much less.
${otherRuns()}
## Machine

| | |
| --- | --- |
| CPU | ${info.cpu} |
| Cores | ${info.cores} |
| OS | ${info.os} |
| Node | ${info.node} (V8 ${info.v8}) |
| OpenSSL | ${info.openssl} |
| Date | ${info.date} |
| Load average (1 min) before the run | ${loadBefore.toFixed(2)} |
| Host speed, start → end of the run (bench/lib/host-anchor.js: compare runs only where these agree) | ${anchorText(anchors.start, anchors.end)} |
| Host speed against an earlier run's host | ${referenceText(anchors.start)} |
${contention === undefined ? '' : `| Competing for the CPU while the core section was timed (${contention.seconds.toFixed(0)} s, on average) | ${contentionText(contention)} |\n`}| Libraries | ${versions} |
| Run | ${profile.rounds} rounds × ${profile.roundMs} ms after ${profile.warmupMs} ms warm-up, median${profile.extendCapMs ? ` (a verify group whose overhead interval is wider than its budget or does not resolve a target: more rounds, up to ${profile.extendCapMs / 1000} s)` : ''}; total ${durationS.toFixed(0)} s |

${busyNote(info.cores, loadBefore, contention)}${driftNote(anchors.start, anchors.end)}## What is measured

- **Jot**: \`createSigner\` / \`createVerifier\` from \`@jot/jose\` (the built \`dist\`), prepared once per algorithm;
  verify checks the allow-listed \`alg\`, the signature, \`exp\`, \`iss\` and \`aud\`, and returns header, payload and key.
- **node:crypto**: only the signature operation over the same signing-input bytes, with KeyObjects created once
  (HMAC digest + \`timingSafeEqual\`; \`crypto.sign\`/\`crypto.verify\`, IEEE P1363 for ECDSA, PSS salt = digest length).
  No parsing, no base64url, no JSON, no claims: the ceiling for any JWT library on this machine.
- **fast-jwt**: \`createSigner\` / \`createVerifier\` with \`allowedIss\`/\`allowedAud\`; the ratio uses it **without** its
  cache. With \`cache: true\` the same token is a cache hit (no crypto at all), shown for reference only.
- **floor** (verify only; not a library): the least any JWT verifier must do besides the signature — cut the token at
  its dots, decode signature and payload from base64url with Node's lenient decoder, \`JSON.parse\` the payload,
  compare \`iss\`, \`aud\` and \`exp\` — with none of the checks RFC 8725 asks for (canonical base64url, the header's
  allow-list and parameter types, claim types). "floor over raw" is the part of an overhead budget no verifier can
  save.
- **jsonwebtoken**: \`sign\` / \`verify\` with KeyObjects (a PEM string would be re-parsed on every call) and the same
  \`issuer\`/\`audience\` checks. It does not support EdDSA.
- **jose**: keys imported once as \`CryptoKey\`, \`SignJWT\` / \`jwtVerify\` with the same checks. It is async: one
  operation is one awaited promise, started 16 at a time (\`Promise.all\`), its best case — WebCrypto work runs on
  libuv's thread pool, so it can use more than the one core the synchronous libraries run on.

Every library verifies the same token per algorithm (signed once by Jot: header \`alg\`, \`typ\`, \`kid\`; payload
\`iss\`, \`sub\`, \`aud\`, \`exp\`, \`iat\`, \`jti\`, \`sid\`, \`roles\`, \`scope\`: ${payloadBytes} bytes of JSON) and signs the same
claims with the same \`kid\`, \`iss\`, \`aud\` and lifetime. Before timing, the bench checks that every verifier accepts the
token and rejects a tampered copy, and that every signer's token verifies with Jot. Keys: RSA 2048, P-256/384/521,
Ed25519, HMAC secrets as long as the hash; generated fresh for each run.

## Results

${tables}`;
}

/** The heading of the revocation section: always the last section of docs/benchmarks.md. */
export const REVOCATION_HEADING = '## Revocation list (`@jot/verify`)';
/** Issue 15: lookups on scattered tokens in a larger list within this factor of the smallest list's. */
export const REVOCATION_LOOKUP_TARGET = 2;

const fmtNs = (ns) => (ns < 100 ? ns.toFixed(1) : Math.round(ns).toLocaleString('en-US'));
/** Breaks prose into lines of at most `width` characters. */
function wrap(text, width = 118) {
  const lines = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line].join('\n');
}
const sizeLabel = (n) => (n >= 1e6 ? `${n / 1e6} M` : n >= 1e3 ? `${n / 1e3} k` : String(n));

/** Memory a list keeps: its heap and its hash filters (typed arrays, outside the heap). */
const bytesOf = (row) => row.heapBytes + (row.filterBytes ?? 0);

/** The revocation table: one row per list size, each cost also as a ratio to the smallest list's. */
function revocationTable(rows) {
  const [base] = rows;
  const vs = (row, key) => `${(row[key] / base[key]).toFixed(2)}×`;
  const small = sizeLabel(base.size);
  const header = [
    'entries',
    'heap',
    'filters',
    'B/entry',
    'build',
    'not revoked',
    'not revoked, hot',
    'revoked',
  ];
  header.push(`not revoked vs ${small}`, `hot vs ${small}`, `revoked vs ${small}`);
  const body = rows.map((row) => [
    sizeLabel(row.size),
    `${(row.heapBytes / 2 ** 20).toFixed(1)} MiB`,
    `${((row.filterBytes ?? 0) / 2 ** 20).toFixed(1)} MiB`,
    Math.round(bytesOf(row) / row.size).toLocaleString('en-US'),
    `${Math.round(row.buildMs).toLocaleString('en-US')} ms`,
    fmtNs(row.missNs),
    fmtNs(row.hotNs),
    fmtNs(row.hitNs),
    vs(row, 'missNs'),
    vs(row, 'hotNs'),
    vs(row, 'hitNs'),
  ]);
  return table(header, body);
}

/** What the revocation section measures, for `probes` scattered tokens and the smallest list `small`. */
function revocationIntro(probes, small) {
  return wrap(
    'The replicated copy (`RevocationState` from the built `packages/verify/dist`) holding N live entries: 60% ' +
      "`jti`, 30% `sid`, 10% users, with the server's key shapes (22-character `jti`, UUID session and user ids). " +
      '**Heap**: the growth of `heapUsed` between full GCs before and after filling it, keys included; **filters**: ' +
      "the maps' hash filters (typed arrays, outside the heap), which answer a lookup of an absent key without " +
      'touching the map; **B/entry** counts both. **Check**: ' +
      'ns per `state.check(claims, now)`. "Not revoked" misses all three maps (the common case); it cycles ' +
      `through ${probes.toLocaleString('en-US')} different tokens, so the maps are read at scattered places as in ` +
      'a service with many users, while "hot" checks one token over and over (its buckets stay in the CPU cache: ' +
      'the lookups alone). "Revoked" cycles through tokens each revoked by a random entry (the same 60/30/10 mix) ' +
      `and spends most of its time building the \`VerifyError\`. The last columns divide each cost by the ${small} ` +
      "list's (flat ≈ 1.0×). All sizes are timed in the same interleaved rounds.",
  );
}

/** Judges every list larger than the smallest (issue 15: scattered lookups within 2× of it); their list items. */
function revocationVerdicts(rows, targets) {
  const [base] = rows;
  return rows.slice(1).map((row) => {
    const factor = row.missNs / base.missNs;
    return targets.check(
      `revocation.scattered-lookup.${sizeLabel(row.size).replace(' ', '')}`,
      factor <= REVOCATION_LOOKUP_TARGET,
      `${sizeLabel(row.size)} entries: a not-revoked check on scattered tokens ${factor.toFixed(2)}× the ` +
        `${sizeLabel(base.size)} list's (target ≤ ${REVOCATION_LOOKUP_TARGET}×)`,
      { size: row.size, missNs: row.missNs, hotNs: row.hotNs, filterBytes: row.filterBytes ?? 0 },
    );
  });
}

/**
 * The revocation section: one row per list size, each cost also as a ratio to the smallest list (flat ≈ 1.0×), and
 * the verdict on each larger list.
 *
 * @param {{ size: number, heapBytes: number, filterBytes?: number, buildMs: number, missNs: number, hotNs: number,
 *   hitNs: number }[]} rows
 * @param {{ info: ReturnType<typeof machine>, profile: { rounds: number, roundMs: number, warmupMs: number },
 *   durationS: number, probes: number }} meta
 */
export function renderRevocation(rows, { info, profile, durationS, probes }) {
  const [base] = rows;
  const last = rows[rows.length - 1];
  const vs = (row, key) => `${(row[key] / base[key]).toFixed(2)}×`;
  const small = sizeLabel(base.size);
  const targets = createTargets({ baseSize: base.size, baseMissNs: base.missNs, baseHotNs: base.hotNs });
  const text = [
    REVOCATION_HEADING,
    '',
    `Measured ${info.date} · ${info.cpu} · ${info.cores} cores · Node ${info.node} · ${profile.rounds} rounds × ` +
      `${profile.roundMs} ms, median · ${durationS.toFixed(0)} s.`,
    '',
    revocationIntro(probes, small),
    '',
    revocationTable(rows),
    '',
    wrap(
      `${sizeLabel(last.size)} vs ${small}: memory per entry ${Math.round(bytesOf(last) / last.size)} B vs ` +
        `${Math.round(bytesOf(base) / base.size)} B; the lookups alone (hot) ${vs(last, 'hotNs')}; a not-revoked ` +
        `check on scattered tokens ${vs(last, 'missNs')} (${fmtNs(last.missNs)} ns: each of the three probes reads one block of ` +
        `the Bloom filters in front of the ${((last.filterBytes ?? 0) / 2 ** 20).toFixed(0)} MiB of hash filters, ` +
        `which stay in the CPU caches less often than the ${small} list's); a revoked one ${vs(last, 'hitNs')}.`,
    ),
    '',
    ...revocationVerdicts(rows, targets),
    '',
  ].join('\n');
  return { markdown: text, missed: targets.missed };
}

/** The `## ` section of `doc` that starts with `heading`, up to the next `## ` heading (or undefined). */
export function sectionOf(doc, heading) {
  if (doc === undefined) return undefined;
  const at = doc.indexOf(`\n${heading}`);
  if (at === -1) return undefined;
  const next = doc.indexOf('\n## ', at + 1 + heading.length);
  return doc.slice(at + 1, next === -1 ? undefined : next + 1).replace(/\n*$/, '\n');
}

/** `doc` up to the first of the `headings` it contains. */
export function headOf(doc, headings) {
  const cuts = headings.map((h) => doc.indexOf(`\n${h}`)).filter((at) => at !== -1);
  return (cuts.length ? doc.slice(0, Math.min(...cuts)) : doc).replace(/\n*$/, '\n');
}
