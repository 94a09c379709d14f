/**
 * Unknown option names are a `TypeError` when the verifier is built. An option in the wrong place (a `feedUrl` next
 * to `jwksUri` instead of inside `revocation`) was once silently ignored, and the verifier followed the issuer's
 * default feed instead of the one configured: a configuration bug must never pass for a working default.
 */
import type { DecryptionOptions } from './decrypt.js';
import type { DPoPOptions } from './dpop.js';
import type { ReplicatedRevocationOptions, StrictRevocationOptions, VerifierOptions } from './options.js';

/** Every key of every member of a union (`keyof` of a union has only the keys all members share). */
type KeysOf<T> = T extends unknown ? keyof T : never;

/**
 * The names an options object of type `T` accepts, each `true`: `satisfies` this makes tsc fail when an option is
 * added to the type and not to its list (or listed and not in the type). Non-object members (`false`, `'memory'`,
 * `undefined`) have no names.
 */
type NamesOf<T> = Record<KeysOf<Exclude<T, undefined | boolean | string>>, true>;

type Replicated = ReplicatedRevocationOptions;
type Dpop = DPoPOptions;

const TOP = {
  issuer: true,
  audience: true,
  profile: true,
  algorithms: true,
  jwksUri: true,
  revocation: true,
  jwks: true,
  cache: true,
  offload: true,
  cookies: true,
  clockTolerance: true,
  realm: true,
  maxTokenLength: true,
  fetch: true,
  clock: true,
  logger: true,
  dpop: true,
  decryption: true,
} as const satisfies NamesOf<VerifierOptions>;

const REPLICATED = {
  strategy: true,
  secret: true,
  feedUrl: true,
  streamUrl: true,
  maxStaleness: true,
  failOpen: true,
  heartbeatTimeout: true,
  reconnectDelay: true,
  pruneInterval: true,
  timeout: true,
} as const satisfies NamesOf<Replicated>;

const STRICT = {
  strategy: true,
  secret: true,
  introspectionUrl: true,
  redis: true,
  namespace: true,
  deployment: true,
  failOpen: true,
  timeout: true,
} as const satisfies NamesOf<StrictRevocationOptions>;

const RECONNECT_DELAY = { min: true, max: true } as const satisfies NamesOf<Replicated['reconnectDelay']>;

const JWKS = {
  cooldown: true,
  minCacheAge: true,
  maxCacheAge: true,
  defaultCacheAge: true,
  timeout: true,
  maxStale: true,
} as const satisfies NamesOf<VerifierOptions['jwks']>;

const CACHE = { maxEntries: true, maxBytes: true } as const satisfies NamesOf<VerifierOptions['cache']>;

const DPOP = {
  externalUrl: true,
  required: true,
  replay: true,
  nonce: true,
  maxAge: true,
  algorithms: true,
} as const satisfies NamesOf<Dpop>;

const REPLAY = { redis: true, prefix: true, memory: true } as const satisfies NamesOf<Dpop['replay']>;

const REPLAY_MEMORY = { maxEntries: true, singleInstance: true } as const satisfies NamesOf<
  Extract<Dpop['replay'], { memory: unknown }>['memory']
>;

const NONCE = { secret: true, window: true } as const satisfies NamesOf<Dpop['nonce']>;

const DECRYPTION = {
  keys: true,
  maxLength: true,
  required: true,
} as const satisfies NamesOf<DecryptionOptions>;

const names = (known: object): ReadonlySet<string> => new Set(Object.keys(known));

/** Where each object of the options accepts which names. */
const KNOWN = {
  top: names(TOP),
  replicated: names(REPLICATED),
  strict: names(STRICT),
  reconnectDelay: names(RECONNECT_DELAY),
  jwks: names(JWKS),
  cache: names(CACHE),
  dpop: names(DPOP),
  replay: names(REPLAY),
  replayMemory: names(REPLAY_MEMORY),
  nonce: names(NONCE),
  decryption: names(DECRYPTION),
} as const;

/** Settings of the replicated strategy alone, and of either strategy (`strategy` and `timeout` said elsewhere). */
const REPLICATED_ONLY = [...KNOWN.replicated].filter((name) => !KNOWN.strict.has(name));
const IN_REVOCATION = [...new Set([...KNOWN.strict, ...KNOWN.replicated])].filter(
  (name) => name !== 'strategy' && name !== 'timeout',
);

/** Known misplacements: where the name belongs, by the object it was found in. */
function belongs(where: keyof typeof KNOWN, name: string): string | undefined {
  if (where === 'top') {
    if (REPLICATED_ONLY.includes(name)) return `revocation: { strategy: 'replicated', ${name} }`;
    if (name === 'introspectionUrl' || name === 'redis') return `revocation: { strategy: 'strict', ${name} }`;
    if (IN_REVOCATION.includes(name)) return `revocation: { strategy, ${name} }`;
    if (KNOWN.jwks.has(name)) return `jwks: { ${name} }`;
    if (KNOWN.cache.has(name)) return `cache: { ${name} }`;
    if (['externalUrl', 'replay', 'nonce', 'maxAge'].includes(name)) return `dpop: { ${name} }`;
    if (name === 'keys' || name === 'maxLength') return `decryption: { ${name} }`;
    if (name === 'jwksUrl' || name === 'jwks_uri') return 'jwksUri (top level)';
    return undefined;
  }
  if (name === 'jwksUri') return 'jwksUri (top level)';
  if (where === 'strict' && REPLICATED_ONLY.includes(name))
    return `revocation: { strategy: 'replicated', ${name} }`;
  if (where === 'replicated' && (name === 'introspectionUrl' || name === 'redis')) {
    return `revocation: { strategy: 'strict', ${name} }`;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkNames(value: unknown, where: keyof typeof KNOWN, path: string): void {
  if (!isPlainObject(value)) return;
  const known = KNOWN[where];
  for (const name of Object.keys(value)) {
    if (known.has(name)) continue;
    const full = path === '' ? name : `${path}.${name}`;
    const place = belongs(where, name);
    throw new TypeError(
      `verify: unknown option "${full}"` +
        (place === undefined ? '' : `: it belongs in ${place}`) +
        ' (see docs/verify.md for the options)',
    );
  }
}

/** Throws a `TypeError` naming the first option `createVerifier` does not know, and where it belongs if known. */
export function checkOptionNames(options: object): void {
  const o = options as Record<string, unknown>;
  checkNames(o, 'top', '');
  const revocation = o.revocation;
  // A custom strategy (an object with `check`) is the caller's own: its fields are not options.
  if (isPlainObject(revocation) && typeof revocation.check !== 'function') {
    const strategy = revocation.strategy === 'strict' ? 'strict' : 'replicated';
    if (revocation.strategy === 'strict' || revocation.strategy === 'replicated') {
      checkNames(revocation, strategy, 'revocation');
      checkNames(revocation.reconnectDelay, 'reconnectDelay', 'revocation.reconnectDelay');
    }
  }
  checkNames(o.jwks, 'jwks', 'jwks');
  checkNames(o.cache, 'cache', 'cache');
  checkNames(o.decryption, 'decryption', 'decryption');
  if (isPlainObject(o.dpop)) {
    checkNames(o.dpop, 'dpop', 'dpop');
    checkNames(o.dpop.nonce, 'nonce', 'dpop.nonce');
    checkNames(o.dpop.replay, 'replay', 'dpop.replay');
    if (isPlainObject(o.dpop.replay)) {
      checkNames(o.dpop.replay.memory, 'replayMemory', 'dpop.replay.memory');
    }
  }
}
