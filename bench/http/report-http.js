/** Markdown for the resource-server section, with its two targets judged from the same run. */
import os from 'node:os';

import { median } from '../lib/proc.js';
import { barChart } from '../lib/svg.js';
import { createTargets } from '../lib/targets.js';
import { HTTP_RIVALS } from './run-http.js';

export const HTTP_HEADING = '## Resource server (`GET /hello` behind a token check)';

/** Target: uncached Jot vs the best of jose and @fastify/jwt; cached Jot on realistic traffic vs bare Fastify. */
export const HTTP_TARGETS = { uncachedVsBest: 1.3, cachedZipfVsBare: 0.6 };

const fmt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

const ratio = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a');

/**
 * `a` ÷ `b` paired round by round (`b` a run or several, of which each round takes the fastest), the median of the
 * rounds: a change of the machine's load between rounds moves both sides of a pair, not one median alone.
 */
function pairedRatio(a, b) {
  const rivals = [b].flat().filter(Boolean);
  if (!a?.roundRps || rivals.length === 0) return NaN;
  const ratios = a.roundRps.map((rps, i) => rps / Math.max(...rivals.map((r) => r.roundRps[i] ?? 0)));
  return median(ratios.filter(Number.isFinite));
}

/** @param {{ results: { alg: string, runs: object[] }[] }} section @param {object} profile */
export function renderHttp({ results, failures, poolThreads }, profile) {
  const parts = [
    HTTP_HEADING,
    '',
    `Each contender in its own process; autocannon with ${profile.connections} connections from the bench process ` +
      `(the two share the machine's cores; "one token" sends autocannon's fixed request, "Zipf 10k" rebuilds each ` +
      'request with its token, which costs the load generator more: compare rows of the same traffic); ' +
      `${profile.rounds} interleaved round(s) of ${profile.seconds} s, median ` +
      '(ratios: the median of the ratios within each round). ' +
      '"CPU/req" is the server process\'s user + system CPU time per answered request, from `/proc` (all its ' +
      'threads; "of which event loop": its main thread), and "autocannon CPU/req" what the load generator in the ' +
      'bench process spent per request on the same cores. Jot runs ' +
      "with `revocation: 'none'` here (its replicated list is a local lookup; see the revocation section). " +
      '`jot (inline)` and `jot (pool)` are diagnostics of its offload switch (by default `auto`: inline while the ' +
      'event loop is idle, on the thread pool under load): every signature check on the event loop, or every one ' +
      'on the thread pool; their CPU per request differs by what the hop to the pool costs. ' +
      `Every server runs with libuv's thread pool sized as [verify.md](verify.md#using-every-core) advises a ` +
      `resource server, every core but the event loop's (\`UV_THREADPOOL_SIZE=${poolThreads}\` here); ` +
      "`jot (default pool)` and `jose (default pool)` — the two that verify on the pool — with Node's default of " +
      "4 threads. jose's best of the two counts as its rate in each round.",
    '',
  ];
  const targets = createTargets();
  const charts = [];
  for (const { alg, runs, rawVerifyUs } of results) {
    const get = (contender, traffic = 'one token') =>
      runs.find((r) => r.contender === contender && r.traffic === traffic);
    const bare = get('bare');
    parts.push(
      `### ${alg}`,
      '',
      '| contender | traffic | req/s | CPU/req (µs) | of which event loop | autocannon CPU/req | × bare |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const r of runs) {
      const base = get('bare', r.traffic) ?? bare;
      parts.push(
        `| ${r.contender} | ${r.traffic} | ${fmt(r.rps)} | ${fmt(r.cpuUs)} | ${fmt(r.mainCpuUs)} | ` +
          `${fmt(r.loaderCpuUs)} | ${pairedRatio(r, base).toFixed(2)}× |` +
          (r.bad ? ` (${r.bad} failed)` : ''),
      );
    }
    const rivals = HTTP_RIVALS.map((name) => get(name));
    const uncached = pairedRatio(get('jot'), rivals);
    // Like for like: Jot with Node's default pool against the rivals with theirs.
    const defaultPool = pairedRatio(get('jot (default pool)'), [
      get('jose (default pool)'),
      get('fastify-jwt'),
    ]);
    const cached = pairedRatio(get('jot (cache)', 'Zipf 10k'), get('bare', 'Zipf 10k'));
    const file = `bench/http-${alg}.svg`;
    charts.push({
      file,
      svg: barChart({
        title: `GET /hello behind a ${alg} token check`,
        unit: 'requests/s (median)',
        bars: runs.map((r) => ({
          label: r.traffic === 'one token' ? r.contender : `${r.contender} (${r.traffic})`,
          value: r.rps,
          accent: r.contender.startsWith('jot'),
        })),
      }),
    });
    parts.push(
      '',
      `![${alg} requests per second](${file})`,
      '',
      // Each contender's figures go to the notes (bench/target-notes.js) that explain a missed target.
      targets.check(
        `http.uncached-vs-best.${alg}`,
        uncached >= HTTP_TARGETS.uncachedVsBest,
        `Jot uncached ÷ best of jose and @fastify/jwt (target ≥ ${HTTP_TARGETS.uncachedVsBest}×): ${ratio(uncached)}`,
        { alg, runs, rawVerifyUs, cores: os.cpus().length },
      ),
      `- Jot with Node's default thread pool (4 threads) ÷ the best of jose with the same pool and @fastify/jwt: ` +
        `${ratio(defaultPool)} (diagnostic).`,
      targets.check(
        `http.cached-zipf-vs-bare.${alg}`,
        cached >= HTTP_TARGETS.cachedZipfVsBare,
        `Jot with its cache on Zipf traffic over ${'10,000'} tokens ÷ bare Fastify on the same traffic (target ≥ ` +
          `${HTTP_TARGETS.cachedZipfVsBare}×): ${ratio(cached)}`,
        { alg, runs, cores: os.cpus().length },
      ),
      '',
    );
  }
  if (failures.length) parts.push('Checks failed:', '', ...failures.map((f) => `- ${f}`), '');
  return { markdown: parts.join('\n'), missed: targets.missed, failures, charts };
}
