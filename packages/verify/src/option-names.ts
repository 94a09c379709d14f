/**
 * Unknown option names are a `TypeError` when the verifier is built. An option in the wrong place (a `feedUrl` next
 * to `jwksUri` instead of inside `revocation`) was once silently ignored, and the verifier followed the issuer's
 * default feed instead of the one configured: a configuration bug must never pass for a working default.
 */

/** Where each object of the options accepts which names. */
const KNOWN = {
  top: [
    'issuer',
    'audience',
    'profile',
    'algorithms',
    'jwksUri',
    'revocation',
    'jwks',
    'cache',
    'offload',
    'cookies',
    'clockTolerance',
    'realm',
    'maxTokenLength',
    'fetch',
    'clock',
    'logger',
    'dpop',
    'decryption',
  ],
  replicated: [
    'strategy',
    'secret',
    'feedUrl',
    'streamUrl',
    'maxStaleness',
    'failOpen',
    'heartbeatTimeout',
    'reconnectDelay',
    'pruneInterval',
    'timeout',
  ],
  strict: ['strategy', 'secret', 'introspectionUrl', 'redis', 'failOpen', 'timeout'],
  reconnectDelay: ['min', 'max'],
  jwks: ['cooldown', 'minCacheAge', 'maxCacheAge', 'defaultCacheAge', 'timeout', 'maxStale'],
  cache: ['maxEntries', 'maxBytes'],
  dpop: ['externalUrl', 'required', 'replay', 'nonce', 'maxAge', 'algorithms'],
  replay: ['redis', 'prefix'],
  nonce: ['secret', 'window'],
  decryption: ['keys', 'maxLength', 'required'],
} as const satisfies Record<string, readonly string[]>;

const REPLICATED_ONLY = [
  'feedUrl',
  'streamUrl',
  'maxStaleness',
  'heartbeatTimeout',
  'reconnectDelay',
  'pruneInterval',
];
const IN_REVOCATION = ['secret', 'failOpen', 'introspectionUrl', 'redis', ...REPLICATED_ONLY];

/** Known misplacements: where the name belongs, by the object it was found in. */
function belongs(where: keyof typeof KNOWN, name: string): string | undefined {
  if (where === 'top') {
    if (REPLICATED_ONLY.includes(name)) return `revocation: { strategy: 'replicated', ${name} }`;
    if (name === 'introspectionUrl' || name === 'redis') return `revocation: { strategy: 'strict', ${name} }`;
    if (IN_REVOCATION.includes(name)) return `revocation: { strategy, ${name} }`;
    if ((KNOWN.jwks as readonly string[]).includes(name)) return `jwks: { ${name} }`;
    if ((KNOWN.cache as readonly string[]).includes(name)) return `cache: { ${name} }`;
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
  const known: readonly string[] = KNOWN[where];
  for (const name of Object.keys(value)) {
    if (known.includes(name)) continue;
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
  }
}
