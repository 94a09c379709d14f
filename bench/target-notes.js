/**
 * Why a target the bench reports as missed cannot be met, measured: for each target id (see bench/lib/targets.js;
 * the ids are printed beside every verdict) a note that turns the figures of the same run into a sentence. A note
 * registered for a family (`growth`) covers every id under it (`growth.login.1000000`) that has none of its own.
 *
 * A note receives `facts` — the section's figures merged with the target's own (each section documents what it
 * passes) — and returns a sentence, or undefined when a figure it needs was not measured in this run (a `--quick`
 * or partial run). Say what was measured, not what might be: prefer "X costs N µs = P % of the budget" to prose
 * that would stay the same whatever the run measured.
 */
import { HTTP_RIVALS } from './http/run-http.js';
import { REFERENCE_ANCHORS } from './lib/host-anchor.js';

const round = (n) => Math.round(n).toLocaleString('en-US');
const us = (n) => `${round(n)} µs`;
const ms = (n) => `${(n / 1000).toFixed(1)} ms`;
const ms2 = (n) => `${(n / 1000).toFixed(2)} ms`;
const pct = (part, whole) => `${Math.round((100 * part) / whole)} %`;
const known = (...values) => values.every((v) => Number.isFinite(v));

/** An endpoint's CPU per request against its per-CPU-second target, split by thread, and what one RS256 signature is. */
function budgetNote(endpoint, target, { label = endpoint, signs }) {
  return (facts) => {
    const row = facts.sqlite?.[endpoint];
    if (!row || !known(row.cpuUs, row.mainCpuUs, row.otherCpuUs)) return undefined;
    const budget = 1e6 / target;
    const sentence =
      `one ${label} costs ${us(row.cpuUs)} of server CPU against a budget of ${us(budget)} (1/${round(target)} s): ` +
      `${us(row.mainCpuUs)} on the event loop and ${us(row.otherCpuUs)} on other threads`;
    if (!signs || !known(facts.rsSignCpuUs)) return `${sentence}.${slowerHost(facts)}`;
    return (
      `${sentence}; the one RS256 signature it issues costs ${us(facts.rsSignCpuUs)} of CPU by itself ` +
      `(crypto.sign in the bench process: ${pct(facts.rsSignCpuUs, budget)} of the budget).${slowerHost(facts)}`
    );
  };
}

/**
 * ` This host is slower…`: said when this run's RS256 signature costs more than 15 % over the reference run's
 * (bench/lib/host-anchor.js), since a budget in CPU time is then smaller here than where the target was first judged.
 */
function slowerHost(facts) {
  if (!known(facts.rsSignCpuUs) || facts.rsSignCpuUs <= REFERENCE_ANCHORS.rsSignUs * 1.15) return '';
  return (
    ` This host is slower than the earlier full run's (${REFERENCE_ANCHORS.host}): the same RS256 signature costs ` +
    `${(facts.rsSignCpuUs / REFERENCE_ANCHORS.rsSignUs).toFixed(2)}× its CPU there (${us(REFERENCE_ANCHORS.rsSignUs)}), ` +
    'and the whole request moves with the host (Machine: host speed).'
  );
}

/** `, extended until the 60 s cap`: said when a group's extra rounds ended at the cap, not because they sufficed. */
function capNote({ capHit, capS, extraRounds }) {
  return capHit ? `, ${extraRounds} of them extra rounds that stopped at the ${capS} s cap` : '';
}

/**
 * Jot's verify overhead judged against its budget: whether this run's rounds can resolve it (the 95 % interval of the
 * paired median against the budget) and what the raw operation costs, since its noise is what hides the overhead.
 */
function overheadNote() {
  return (facts) => {
    const { alg, budgetUs: limit, rawCpuUs, rounds, jotUs: median, jotLowUs: low, jotHighUs: high } = facts;
    if (!known(median, low, high, limit, rawCpuUs, rounds)) return undefined;
    const range = `${low.toFixed(1)} and ${high.toFixed(1)} µs (95 % interval of the median of ${rounds} paired rounds${capNote(facts)})`;
    const raw = `one raw ${alg} check costs ${rawCpuUs.toFixed(1)} µs of CPU`;
    const floor = floorSentence(facts);
    if (low <= limit && high > limit) {
      return `the overhead lies between ${range}, which straddles the limit of ${limit.toFixed(2)} µs (${raw}): this run's rounds do not resolve whether it is met.${floor}`;
    }
    return `the overhead lies between ${range}, above the limit of ${limit.toFixed(2)} µs (${raw}).${floor}`;
  };
}

/**
 * What the floor (bench/contenders.js: split, lenient base64url, `JSON.parse`, three comparisons — no RFC 8725
 * check) takes of the budget in the same rounds, and what Jot's own checks cost beyond it; '' when not measured.
 */
function floorSentence({ budgetUs: limit, jotUs, floorUs, floorLowUs, floorHighUs }) {
  if (!known(limit, jotUs, floorUs, floorLowUs, floorHighUs)) return '';
  const floor =
    ` The floor — what any verifier does besides the signature (split, decode, \`JSON.parse\`, compare three claims), ` +
    `none of RFC 8725's checks — costs ${floorUs.toFixed(2)} µs over raw (${floorLowUs.toFixed(1)}–${floorHighUs.toFixed(1)}) in the same rounds`;
  if (floorLowUs > limit)
    return `${floor}: above the budget, so no verifier on node:crypto and \`JSON.parse\` meets it in this run.`;
  if (floorUs <= 0) return `${floor}: within the noise of the raw operation.`;
  const beyond = jotUs - floorUs;
  const room = limit - floorUs;
  return (
    `${floor} (${pct(floorUs, limit)} of the budget), leaving ${room.toFixed(2)} µs for the checks; Jot's ` +
    `(canonical base64url, the header's allow-list and types, claim types) cost ${beyond.toFixed(2)} µs.`
  );
}

/**
 * The guarded route against the best rival, uncached: server and load generator share the machine's cores, so the
 * CPU both spend per request bounds the rate. The busiest contender (usually bare Fastify, which does the least per
 * request; on a machine shared with other work, whichever ran while it was quietest) shows how busy the cores could
 * be kept (its rate × its CPU per request, server and autocannon); at that same share of the cores Jot's CPU per
 * request gives the most it can serve, set against what 1.3× the best rival needs.
 */
function httpUncachedNote(facts) {
  const { runs, cores } = facts;
  const find = (contender) => runs?.find((r) => r.contender === contender && r.traffic === 'one token');
  const jot = find('jot');
  const bare = find('bare');
  const best = HTTP_RIVALS.map(find)
    .filter(Boolean)
    .sort((a, b) => b.rps - a.rps)[0];
  if (
    !jot ||
    !bare ||
    !best ||
    !known(jot.cpuUs, jot.mainCpuUs, jot.loaderCpuUs, best.rps, bare.rps, bare.cpuUs, bare.loaderCpuUs, cores)
  )
    return undefined;
  const needed = 1.3 * best.rps;
  const perRequest = jot.cpuUs + jot.loaderCpuUs;
  // The busiest any contender kept the cores in this run (usually bare Fastify), as CPU-µs per second.
  const busiest = Math.max(
    ...runs
      .filter((r) => r.traffic === 'one token' && known(r.rps, r.cpuUs, r.loaderCpuUs))
      .map((r) => r.rps * (r.cpuUs + r.loaderCpuUs)),
  );
  const reachable = busiest / perRequest;
  const budget = busiest / needed - jot.loaderCpuUs;
  return (
    `Jot spent ${us(jot.cpuUs)} of server CPU per request (${us(jot.mainCpuUs)} on the event loop; bare Fastify ` +
    `${us(bare.cpuUs)}, ${best.contender} ${us(best.cpuUs)}) and autocannon, on the same ${cores} cores, ` +
    `${us(jot.loaderCpuUs)}. The busiest any contender kept the cores was ${pct(busiest, cores * 1e6)} ` +
    `(Jot ${pct(jot.rps * perRequest, cores * 1e6)}); at that share Jot's ${us(perRequest)} per request ` +
    `(server and autocannon) reach ${round(reachable)} req/s = ${(reachable / best.rps).toFixed(2)}× ` +
    `${best.contender}, where 1.3× needs ${round(needed)} req/s: ` +
    (budget <= 0
      ? 'at that share not even a server that spent no CPU at all would reach it '
      : `Jot would have to spend at most ${us(budget)} per request` +
        `${budget <= bare.cpuUs ? ', no more than bare Fastify alone' : ''} `) +
    `(it spends ${us(jot.cpuUs - bare.cpuUs)} above bare Fastify; one uncached signature check is part of that).` +
    (budget > 0 ? httpFloorSentence(facts, find, { budget, best }) : '')
  );
}

/**
 * The least a guarded request can cost, measured in the same run: bare Fastify's request, one bare signature check
 * (in the bench process) and, for a guard that hands the check to the thread pool, the hop (`jot (pool)` − `jot
 * (inline)`); and what the event loop alone caps Jot at when every check stays on it. '' when not measured.
 */
function httpFloorSentence({ rawVerifyUs, alg }, find, { budget, best }) {
  const bare = find('bare');
  const inline = find('jot (inline)');
  const pool = find('jot (pool)');
  if (!inline || !pool || !known(rawVerifyUs, bare.cpuUs, inline.cpuUs, inline.mainCpuUs, pool.cpuUs))
    return '';
  const hop = Math.max(0, pool.cpuUs - inline.cpuUs);
  const floor = bare.cpuUs + rawVerifyUs + hop;
  const loopCap = 1e6 / inline.mainCpuUs;
  const verdict =
    floor > budget
      ? `above the budget, so no guard that hands its check to the thread pool meets the target in this run`
      : `${us(budget - floor)} under the budget, which leaves Jot's own work (header, token, claims, request ` +
        `decoration) that much; it spends ${us(pool.cpuUs - floor)}`;
  const hopText =
    pool.cpuUs > inline.cpuUs
      ? `the hop to the thread pool's ${us(hop)} (jot (pool) ${us(pool.cpuUs)} − jot (inline) ${us(inline.cpuUs)} per request)`
      : `no hop (on the pool the request cost less than inline: jot (pool) ${us(pool.cpuUs)}, jot (inline) ` +
        `${us(inline.cpuUs)})`;
  return (
    ` The floor, measured in this run: bare Fastify's ${us(bare.cpuUs)} + one bare ${alg} check's ` +
    `${us(rawVerifyUs)} + ${hopText} = ${us(floor)}: ${verdict}. Kept on the event loop, every check costs Jot ` +
    `${us(inline.mainCpuUs)} of that one thread per request, which caps it at ${round(loopCap)} req/s = ` +
    `${(loopCap / best.rps).toFixed(2)}× ${best.contender}.`
  );
}

/**
 * The guarded route with its cache on Zipf traffic against bare Fastify on the same traffic: as for the uncached
 * note, the busiest share of the cores any of the two reached bounds the rate, and sets the server CPU per request
 * that 0.6× bare Fastify allows Jot at that share.
 */
function httpCachedNote(facts) {
  const { runs, cores } = facts;
  const find = (contender) => runs?.find((r) => r.contender === contender && r.traffic === 'Zipf 10k');
  const jot = find('jot (cache)');
  const bare = find('bare');
  if (!jot || !bare || !known(jot.cpuUs, jot.mainCpuUs, jot.loaderCpuUs, bare.cpuUs, bare.loaderCpuUs, cores))
    return undefined;
  const perRequest = jot.cpuUs + jot.loaderCpuUs;
  const busiest = Math.max(bare.rps * (bare.cpuUs + bare.loaderCpuUs), jot.rps * perRequest);
  const needed = 0.6 * bare.rps;
  const budget = busiest / needed - jot.loaderCpuUs;
  const verdict =
    jot.cpuUs <= budget
      ? `Jot's CPU per request is within that budget: its rate fell short of what its CPU allows, at a share of ` +
        `${pct(jot.rps * perRequest, cores * 1e6)} (other load on the machine moved between rounds)`
      : `Jot spends ${us(jot.cpuUs - budget)} more than that`;
  return (
    `Jot with its cache spent ${us(jot.cpuUs)} of server CPU per request on Zipf traffic (${us(jot.mainCpuUs)} ` +
    `on the event loop) against bare Fastify's ${us(bare.cpuUs)}, and autocannon ${us(jot.loaderCpuUs)}. The ` +
    `busiest either kept the ${cores} cores was ${pct(busiest, cores * 1e6)}; at that share 0.6× bare Fastify ` +
    `(${round(needed)} req/s) allows at most ${us(budget)} of server CPU per request. ${verdict}.`
  );
}

/** Target id (or family) → (facts, id) => sentence | undefined. */
export const TARGET_NOTES = {
  'http.uncached-vs-best': httpUncachedNote,
  'http.cached-zipf-vs-bare': httpCachedNote,
  'core.verify-overhead': overheadNote(),
  'core.vs-fast-jwt'(facts) {
    const { jotUs, jotLowUs, jotHighUs, fastUs, fastLowUs, fastHighUs, rawCpuUs, alg, rounds } = facts;
    if (!known(jotUs, jotLowUs, jotHighUs, fastUs, fastLowUs, fastHighUs, rawCpuUs, rounds)) return undefined;
    const both =
      `Jot ${jotLowUs.toFixed(1)} to ${jotHighUs.toFixed(1)} µs and fast-jwt ${fastLowUs.toFixed(1)} to ` +
      `${fastHighUs.toFixed(1)} µs over raw (95 % intervals of the medians of ${rounds} paired rounds${capNote(facts)}; one raw ` +
      `${alg} check costs ${rawCpuUs.toFixed(1)} µs of CPU)`;
    return fastLowUs < 0 || jotLowUs <= fastHighUs / 2
      ? `${both}: the intervals overlap the half-of-fast-jwt line, so this run does not resolve the comparison.`
      : `${both}: Jot's overhead is above half of fast-jwt's even at the ends of the intervals.`;
  },
  'auth.refresh-sqlite': budgetNote('refresh', 1200, { signs: true }),
  'auth.client-credentials': budgetNote('client credentials', 1500, {
    label: 'client-credentials grant',
    signs: true,
  }),
  'auth.whoami': budgetNote('whoami', 5000, { signs: false }),

  'auth.refresh-postgres-with-db'(facts) {
    const row = facts.postgres?.refresh;
    if (!row || !known(row.cpuUs, row.cpuWithDbUs)) return undefined;
    const budget = 1e6 / 800;
    const database = row.cpuWithDbUs - row.cpuUs;
    const sqlite = facts.sqlite?.refresh?.cpuUs;
    // A refresh runs two statements on PostgreSQL, each a named prepared statement: the joined read, and the
    // rotation with the session's touch and sighting as one WITH…UPDATE…RETURNING (one commit; docs/profiles.md).
    const split =
      `one refresh costs ${us(row.cpuWithDbUs)} of CPU against a budget of ${us(budget)}: the server ` +
      `${us(row.cpuUs)} and PostgreSQL's own backends ${us(database)} (${pct(database, budget)} of the budget) for ` +
      `its two statements, a read and the rotation in one commit.`;
    const server = known(sqlite)
      ? ` On SQLite the same refresh costs the server ${us(sqlite)}, SQL included; even with PostgreSQL's CPU at ` +
        `nothing it would reach ${round(1e6 / row.cpuUs)} per CPU-second here.`
      : '';
    const floor = facts.postgresFloor;
    if (!floor || !known(floor.read.clientUs, floor.read.pgUs, floor.write.clientUs, floor.write.pgUs)) {
      return `${split}${server}`;
    }
    const least = floor.read.clientUs + floor.read.pgUs + floor.write.clientUs + floor.write.pgUs;
    const signature = known(facts.rsSignCpuUs) ? facts.rsSignCpuUs : 0;
    const withSign =
      signature > 0
        ? `; with the RS256 signature (${us(signature)}) ${us(least + signature)}, ${pct(least + signature, budget)} of it`
        : '';
    return (
      `${split}${server} The floor on this machine, measured in the same run with nothing but pg and PostgreSQL: ` +
      `a one-row read by key costs ${us(floor.read.clientUs)} of the client's CPU and ${us(floor.read.pgUs)} of ` +
      `PostgreSQL's, a committed one-row update ${us(floor.write.clientUs)} and ${us(floor.write.pgUs)} (its ` +
      `commit waits for the WAL's fdatasync). A refresh needs one of each before any work of its own: ${us(least)}, ` +
      `${pct(least, budget)} of the budget${withSign}. Beyond that floor this refresh spends ` +
      `${us(row.cpuWithDbUs - least - signature)}: its HTTP request, the five-table read, the rotation's writes (the ` +
      `token, its successor, the session, its sighting) and their indexes, the refresh token's hashing and sealing, ` +
      `the access token's claims.${slowerHost(facts)}`
    );
  },

  'auth.login-vs-argon2'(facts) {
    const login = facts.sqlite?.login;
    const refresh = facts.sqlite?.refresh;
    if (!login || !known(login.cpuUs, login.mainCpuUs, login.otherCpuUs, facts.argon2CpuUs)) return undefined;
    const hash = facts.argon2CpuUs;
    const beyond = login.cpuUs - hash;
    // The most a login may spend beyond its hash and still reach the target.
    const allowed = hash * (1 / facts.loginTarget - 1);
    const sign = known(facts.rsSignCpuUs) ? `; one RS256 signature alone is ${ms2(facts.rsSignCpuUs)}` : '';
    const split =
      `By thread: ${ms(login.mainCpuUs)} on the event loop (10 SQL statements on SQLite, BEGIN and COMMIT counted; HTTP, JSON), ` +
      `${ms(login.otherCpuUs)} on the others (argon2 and RS256 signing on libuv's pool, V8's helpers).`;
    if (!known(refresh?.cpuUs)) {
      return (
        `one login costs ${ms(login.cpuUs)} of server CPU, one argon2id verification alone ${ms(hash)} (the raw ` +
        `rate): ${ms2(beyond)} beyond the hash, where the target allows ${ms2(allowed)}${sign}. ${split}`
      );
    }
    // The least a login can cost: its hash, and what the cheapest request that writes a session's refresh token and
    // signs an access token costs the server — a refresh, measured in the same run (and warmer: 50 connections).
    const floor = hash / (hash + refresh.cpuUs);
    const verdict =
      floor < facts.loginTarget
        ? `the target is above the floor of ${floor.toFixed(2)}×`
        : `the floor is ${floor.toFixed(2)}×, above the target`;
    return (
      `${verdict}: a login is one argon2id verification (${ms(hash)} of CPU at the raw rate) plus at least what a ` +
      `refresh costs the server (${ms2(refresh.cpuUs)} in this run: an HTTP POST, the account's read, a refresh ` +
      `token written, an access token signed with RS256), so a login doing nothing else would reach ` +
      `${floor.toFixed(2)}× the raw rate; the target allows ${ms2(allowed)} beyond the hash ` +
      `(${pct(allowed, refresh.cpuUs)} of a refresh${sign}). This login costs ${ms(login.cpuUs)}: ${ms2(beyond)} ` +
      `beyond the hash, ${(beyond / refresh.cpuUs).toFixed(1)}× a refresh. ${split}`
    );
  },

  'auth.healthz-p99-login-storm'(facts) {
    const { health } = facts;
    const login = facts.sqlite?.login;
    if (!health || !login || !known(health.p50, health.p99, login.mainCpuUs, login.rps)) return undefined;
    const busy = (login.mainCpuUs * login.rps) / 1e6;
    const load = known(facts.load, facts.cores)
      ? `; 1-minute load ${facts.load.toFixed(1)} on ${facts.cores} cores`
      : '';
    return (
      `over ${health.samples} probes p50 ${health.p50.toFixed(1)} ms, p99 ${health.p99.toFixed(1)} ms, max ` +
      `${health.max.toFixed(1)} ms; the event loop was busy ${pct(busy, 1)} of the storm (its CPU time)${load}.`
    );
  },

  growth(facts) {
    const { ratio, ratios, endpoint, tolerance } = facts;
    if (!known(ratio, tolerance) || !Array.isArray(ratios) || ratios.length < 2) return undefined;
    const low = Math.min(...ratios);
    const high = Math.max(...ratios);
    const range = `${endpoint}'s ${ratios.length} interleaved rounds gave ratios from ${low.toFixed(2)}× to ${high.toFixed(2)}×`;
    // Rounds that do not all miss on the same side of the band disagree about the direction: noise.
    return low <= 1 + tolerance && high >= 1 - tolerance
      ? `${range}, not all outside ±${tolerance * 100} % on one side: the median's miss is within this run's noise.`
      : `${range}, every one outside ±${tolerance * 100} % on the same side: a real change (what causes it is not ` +
          'measured yet).';
  },

  'revocation.scattered-lookup'(facts) {
    const { hotNs, baseHotNs, missNs, baseMissNs, filterBytes } = facts;
    if (!known(hotNs, baseHotNs, missNs, baseMissNs, filterBytes)) return undefined;
    return (
      `the same checks on one hot token cost ${(hotNs / baseHotNs).toFixed(2)}× the small list's, so the lookups' ` +
      `work does not grow; on scattered tokens (${(missNs / baseMissNs).toFixed(2)}×) a check's three probes ` +
      `still wait for memory: each reads one 16-byte block of the Bloom filters (4 bits per table slot, about a ` +
      `tenth of the ${(filterBytes / 2 ** 20).toFixed(0)} MiB of hash filters) and, for the few hashes a block ` +
      'passes, one slot of the exact tables.'
    );
  },
};
