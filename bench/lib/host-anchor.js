/**
 * How fast this host is right now, by two operations no Jot code takes part in, measured at the start and at the end
 * of a run: an argon2id verification (memory-bound: it moves with the memory bandwidth and shared cache a noisy
 * neighbour takes, which /proc/stat's steal does not show) and an RS256 signature (compute-bound). Two runs of the
 * same code on one machine type are comparable only where these agree; within one run, a change between start and end
 * says the host changed under it.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** The server's default argon2id parameters (packages/server/src/config/defaults.ts): OWASP's minimum with t = 2. */
const ARGON2 = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
/** A relative change between the start and the end of a run that the report calls out. */
const DRIFT = 0.15;

/** CPU time of the current process, in µs, since `start` (from `process.cpuUsage()`). */
function cpuUs(start) {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

/**
 * CPU µs of one RS256 signature in this process (RSA-2048, `crypto.sign` over a token-sized input, synchronous):
 * the least every token the server issues costs, whichever thread it runs on.
 */
export function rsSignCpuUs() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = randomBytes(370);
  for (let i = 0; i < 20; i++) sign('sha256', data, privateKey);
  const count = 300;
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) sign('sha256', data, privateKey);
  return cpuUs(start) / count;
}

/** CPU ms of one argon2id verification with the server's default parameters, one at a time (`@node-rs/argon2`). */
async function argon2CpuMs() {
  const argon2 = await import('@node-rs/argon2');
  const password = 'host-anchor';
  const hash = await argon2.hash(password, ARGON2);
  await argon2.verify(hash, password);
  const count = 12;
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) await argon2.verify(hash, password);
  return cpuUs(start) / count / 1000;
}

/** Both anchors, measured now (about 1 s). */
export async function hostAnchors() {
  return { argon2Ms: await argon2CpuMs(), rsSignUs: rsSignCpuUs() };
}

/** "argon2id verification 9.8 → 9.9 ms, RS256 signature 250 → 251 µs (CPU time each)". */
export function anchorText(start, end) {
  const pair = (a, b, digits) =>
    b === undefined ? a.toFixed(digits) : `${a.toFixed(digits)} → ${b.toFixed(digits)}`;
  return (
    `argon2id verification ${pair(start.argon2Ms, end?.argon2Ms, 1)} ms, ` +
    `RS256 signature ${pair(start.rsSignUs, end?.rsSignUs, 0)} µs (CPU time each)`
  );
}

/**
 * The anchors of an earlier full run (docs/benchmarks.md of 2026-12-01: AMD EPYC, 2 cores, Node 20.20.2, quiet), kept
 * so that a run on another machine says how much slower or faster its CPU is than that one's: the per-CPU-second
 * targets of the auth server were first judged there, and those figures move with the host's speed.
 */
export const REFERENCE_ANCHORS = { argon2Ms: 5.8, rsSignUs: 212, host: 'AMD EPYC, 2026-12-01' };

/** "1.76× and 1.37× the CPU of the reference run's host (AMD EPYC, 2026-12-01: 5.8 ms and 212 µs)". */
export function referenceText(anchors) {
  const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
  const { argon2Ms, rsSignUs, host } = REFERENCE_ANCHORS;
  return (
    `${ratio(anchors.argon2Ms, argon2Ms)} and ${ratio(anchors.rsSignUs, rsSignUs)} the CPU time of the same two ` +
    `operations on the host of an earlier full run (${host}: ${argon2Ms} ms and ${rsSignUs} µs); per-CPU-second ` +
    'figures (auth server, growth) move with the host, ratios within a run much less'
  );
}

/** A warning when an anchor moved by more than `DRIFT` between the start and the end of the run; '' otherwise. */
export function driftNote(start, end) {
  if (start === undefined || end === undefined) return '';
  const moved = [
    ['argon2id verification', start.argon2Ms, end.argon2Ms],
    ['RS256 signature', start.rsSignUs, end.rsSignUs],
  ].filter(([, a, b]) => Math.abs(b - a) / a > DRIFT);
  if (moved.length === 0) return '';
  const what = moved.map(
    ([name, a, b]) => `${name} ${b > a ? '+' : ''}${(((b - a) / a) * 100).toFixed(0)} %`,
  );
  return (
    `> **The host's speed changed during the run** (${what.join(', ')} from start to end, CPU time of the same ` +
    'operation): sections run at different times are not comparable in absolute terms; ratios within a section ' +
    '(interleaved rounds) are affected much less.\n\n'
  );
}
