/**
 * The replicated revocation list of `@jot/verify` (`RevocationState`, from the built packages/verify/dist) at 10 k,
 * 100 k and 1 M entries (60% jti, 30% sid, 10% users): the memory each entry keeps (heap, and the maps' hash
 * filters — exact hash tables with a Bloom filter in front — which are typed arrays outside it), and the cost of a
 * check for a token
 * that is not revoked and for one that is, with each size's ratio to the smallest (flat ≈ 1.0×).
 *
 * Keys have the server's shapes (a 22-character base64url `jti`, UUID session and user ids) and are flat strings, as
 * `JSON.parse` of the feed gives them. A "cold" call checks the next of PROBES different tokens, so the maps are
 * probed at scattered places as in production (many users, and other work between two checks); a "hot" call checks
 * one token over and over, its buckets staying in the CPU cache: the cost of the lookups alone. All sizes are timed
 * in the same interleaved rounds (`measureGroup`).
 */
import { measureGroup } from './harness.js';

export const SIZES = [10_000, 100_000, 1_000_000];
/** Different tokens cycled through per timed function (a power of two). */
export const PROBES = 1 << 14;

const gc = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};
const SALT = { jti: 0x6a7469, sid: 0x736964, user: 0x75736572, miss: 0x6d697373, pick: 0x7069636b };

/** A 32-bit integer hash (splitmix-style finaliser): deterministic, so probes can rebuild any entry's key. */
function mix(x) {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

const raw = Buffer.alloc(16);
const ascii = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef');

function fill(i, salt) {
  for (let w = 0; w < 4; w++) raw.writeUInt32LE(mix(mix(i) ^ mix(salt + w)), w * 4);
}

/** `randomBytes(16).toString('base64url')`, as the server makes a jti. */
function jtiOf(i, salt = SALT.jti) {
  fill(i, salt);
  return raw.toString('base64url');
}

/** `randomUUID()`-shaped, as the server makes session and user ids. */
function uuidOf(i, salt) {
  fill(i, salt);
  let at = 0;
  for (let b = 0; b < 16; b++) {
    if (b === 4 || b === 6 || b === 8 || b === 10) ascii[at++] = 0x2d;
    ascii[at++] = HEX[raw[b] >> 4];
    ascii[at++] = HEX[raw[b] & 15];
  }
  return ascii.toString('latin1');
}

const kindOf = (i) => (i % 10 < 6 ? 'jti' : i % 10 < 9 ? 'sid' : 'user');

/** Fills a state with `n` live entries; returns the retained heap, the filters' bytes and the build time. */
function build(RevocationState, n, now) {
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  const state = new RevocationState();
  const expires_at = now + 900;
  const userData = { valid_after: now - 60, ver: 1, status: 'active' };
  for (let i = 0; i < n; i++) {
    const kind = kindOf(i);
    const subject = kind === 'jti' ? jtiOf(i) : uuidOf(i, SALT[kind]);
    state.apply({ id: String(i), kind, subject, data: kind === 'user' ? userData : {}, expires_at });
  }
  const buildMs = Number(process.hrtime.bigint() - started) / 1e6;
  gc();
  gc();
  // The maps' hash filters are typed arrays, outside the heap: counted apart (0 for a build without them).
  const filterBytes = typeof state.filterBytes === 'function' ? state.filterBytes() : 0;
  return { state, heapBytes: process.memoryUsage().heapUsed - before, filterBytes, buildMs };
}

function claims(now, jti, sid, sub, iat) {
  return {
    iss: 'https://auth.example.com',
    sub,
    aud: 'https://api.example.com',
    exp: now + 600,
    iat,
    jti,
    sid,
    ver: 1,
    auth_time: iat,
    roles: ['user'],
  };
}

/** Tokens in no map at all, and tokens revoked by a random entry (the list's own 60/30/10 mix). */
function probes(n, now) {
  const miss = [];
  const hit = [];
  for (let p = 0; p < PROBES; p++) {
    miss.push(claims(now, jtiOf(p, SALT.miss), uuidOf(p, SALT.miss + 1), uuidOf(p, SALT.miss + 2), now - 10));
    const i = mix(p ^ SALT.pick) % n;
    const kind = kindOf(i);
    hit.push(
      claims(
        now,
        kind === 'jti' ? jtiOf(i) : jtiOf(p, SALT.miss),
        kind === 'sid' ? uuidOf(i, SALT.sid) : uuidOf(p, SALT.miss + 1),
        kind === 'user' ? uuidOf(i, SALT.user) : uuidOf(p, SALT.miss + 2),
        now - 120, // before the users' valid_after: a user entry revokes by its cut-off
      ),
    );
  }
  return { miss, hit };
}

/** Every miss passes and every hit is refused, or the numbers would describe the wrong thing. */
function checkProbes(state, { miss, hit }, now, n) {
  for (const c of miss) state.check(c, now);
  let refused = 0;
  for (const c of hit) {
    try {
      state.check(c, now);
    } catch {
      refused++;
    }
  }
  if (refused !== hit.length) throw new Error(`${n} entries: ${hit.length - refused} revoked probes passed`);
}

/**
 * Measures every size.
 *
 * @param {{ RevocationState: new () => { apply(e: object): void, check(c: object, now: number): void,
 *   counts(): { jti: number, sid: number, user: number } } }} verify the built
 *   packages/verify/dist/revocation/state.js (internal to `@jot/verify`)
 * @param {{ warmupMs: number, rounds: number, roundMs: number }} profile
 * @returns {Promise<{ size: number, heapBytes: number, filterBytes: number, buildMs: number, missNs: number,
 *   hotNs: number, hitNs: number }[]>} times in ns per check: not revoked (cold, hot), revoked (cold)
 */
export async function benchRevocation(verify, profile, log = () => {}) {
  const now = Math.floor(Date.now() / 1000);
  const lists = [];
  for (const size of SIZES) {
    const { state, heapBytes, filterBytes, buildMs } = build(verify.RevocationState, size, now);
    const counts = state.counts();
    if (counts.jti + counts.sid + counts.user !== size)
      throw new Error(`${size} entries: counts ${JSON.stringify(counts)}`);
    log(
      `revocation ${size} entries: ${(heapBytes / 2 ** 20).toFixed(1)} MiB heap + ` +
        `${(filterBytes / 2 ** 20).toFixed(1)} MiB filters, built in ${buildMs.toFixed(0)} ms`,
    );
    lists.push({ size, state, heapBytes, filterBytes, buildMs });
  }
  // Probes are made after every heap reading, so they are not counted in any list.
  const entries = [];
  for (const list of lists) {
    const p = probes(list.size, now);
    checkProbes(list.state, p, now, list.size);
    const { state } = list;
    const mask = PROBES - 1;
    let m = 0;
    let h = 0;
    const hot = p.miss[0];
    entries.push({ name: `${list.size} miss`, fn: () => state.check(p.miss[m++ & mask], now) });
    entries.push({ name: `${list.size} hot`, fn: () => state.check(hot, now) });
    entries.push({
      name: `${list.size} hit`,
      fn: () => {
        try {
          state.check(p.hit[h++ & mask], now);
          return undefined;
        } catch (err) {
          return err;
        }
      },
    });
  }
  const measured = await measureGroup(entries, profile);
  return lists.map(({ size, heapBytes, filterBytes, buildMs }) => {
    const [miss, hot, hit] = ['miss', 'hot', 'hit'].map((kind) => 1e9 / measured.get(`${size} ${kind}`).hz);
    log(
      `revocation ${size} entries: not revoked ${miss.toFixed(0)} ns (hot ${hot.toFixed(0)} ns), ` +
        `revoked ${hit.toFixed(0)} ns`,
    );
    return { size, heapBytes, filterBytes, buildMs, missNs: miss, hotNs: hot, hitNs: hit };
  });
}
