/**
 * Every default of `createVerifier`'s options, in one frozen object: options parsing reads them from here and
 * nowhere else, and docs/verify.md's "Defaults" table is checked against it by a test. Durations are written as
 * the strings a user would pass (`@jot/jose`'s parser reads them like any option).
 */
import { COOKIES } from '@jot/contract';
import { ALGORITHMS, MEMORY_REPLAY_MAX_ENTRIES } from '@jot/jose';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The defaults of `VerifierOptions`, by option path. */
export const VERIFIER_DEFAULTS = deepFreeze({
  /** Which claims a token must carry. @default 'jot' */
  profile: 'jot',
  /**
   * Accepted algorithms: every asymmetric one (a JWKS never carries a usable HMAC secret).
   * @default ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']
   */
  algorithms: [...ALGORITHMS.values()].filter((spec) => spec.family !== 'oct').map((spec) => spec.alg),
  /** Leeway for `exp`/`nbf`/`iat` (and DPoP proof `iat`). @default '5s' */
  clockTolerance: '5s',
  /** `realm` of the `WWW-Authenticate` challenges. @default 'jot' */
  realm: 'jot',
  /** Tokens longer than this (characters) are refused before any decoding. @default 8192 */
  maxTokenLength: 8192,
  /** Access-cookie names, in order. @default ['__Host-jot_at'] */
  cookies: [COOKIES.access.secure],
  /** Where asymmetric signatures are checked. @default 'auto' */
  offload: 'auto',
  /** The verification cache (about 1.5 KB per entry with a typical token). */
  cache: {
    /** @default 10000 */
    maxEntries: 10_000,
    /** Estimated bytes (token text plus a fixed 1 KiB per entry for its claims): 32 MiB. @default 33554432 */
    maxBytes: 32 * 1024 * 1024,
  },
  /** The remote JWKS cache. */
  jwks: {
    /** At most one refetch for an unknown `kid` per this long. @default '30s' */
    cooldown: '30s',
    /** Lower clamp of the response's `Cache-Control: max-age`. @default '30s' */
    minCacheAge: '30s',
    /** Upper clamp of the response's `Cache-Control: max-age`. @default '24h' */
    maxCacheAge: '24h',
    /** Lifetime of a key set served without `max-age`. @default '10m' */
    defaultCacheAge: '10m',
    /** Timeout of each JWKS request. @default '5s' */
    timeout: '5s',
    /**
     * How long past its lifetime a key set that cannot be refreshed keeps verifying; then tokens are refused with
     * 503 until the JWKS answers again. @default '1h'
     */
    maxStale: '1h',
  },
  /** `revocation: { strategy: 'replicated' }`. */
  replicated: {
    /** @default '30s' */
    maxStaleness: '30s',
    /** Upper bound of the computed `heartbeatTimeout` (two thirds of `maxStaleness`). @default '45s' */
    heartbeatTimeoutMax: '45s',
    /** Reconnect backoff bounds. @default { min: '250ms', max: '30s' } */
    reconnectDelay: { min: '250ms', max: '30s' },
    /** How often expired entries are dropped (at least 1 s). @default '60s' */
    pruneInterval: '60s',
    /** Timeout of each snapshot request. @default '10s' */
    timeout: '10s',
    /** @default false (fail closed) */
    failOpen: false,
  },
  /** `revocation: { strategy: 'strict', secret }` (introspection). */
  introspection: {
    /** @default '2s' */
    timeout: '2s',
    /** @default false (fail closed) */
    failOpen: false,
  },
  /** `revocation: { strategy: 'strict', redis }`. */
  redis: {
    /** The server's `JOT_REDIS_NAMESPACE`: the keys read are `<namespace>:rev:…`. @default 'jot' */
    namespace: 'jot',
    /**
     * Whose completeness marker is trusted: `'pin'` — the deployment of the first marker read, for as long as the
     * verifier runs — or the server's deployment id, or a list of ids (each trusted). @default 'pin'
     */
    deployment: 'pin',
    /** Bound on each Redis round trip. @default '500ms' */
    timeout: '500ms',
    /** @default false (fail closed) */
    failOpen: false,
  },
  /** `dpop`. */
  dpop: {
    /** @default false */
    required: false,
    /** @default 'memory' */
    replay: 'memory',
    /**
     * The in-memory replay store (`replay: { memory: { maxEntries, singleInstance } }`): live proofs remembered at
     * once; while it is full, new proofs are refused with 503 (never by forgetting a live one). About 250 bytes per
     * entry. `singleInstance: true` acknowledges that the service runs as one process: no multi-instance warning.
     * @default { maxEntries: 100000, singleInstance: false }
     */
    memoryReplay: { maxEntries: MEMORY_REPLAY_MAX_ENTRIES, singleInstance: false },
    /** Proof age accepted. @default '60s' */
    maxAge: '60s',
    /** How long a nonce of this service stays valid, when `nonce` is set. @default { window: '5m' } */
    nonce: { window: '5m' },
  },
  /** `decryption`. */
  decryption: {
    /** Encrypted tokens longer than this (characters) are refused before decoding. @default 16384 */
    maxLength: 16_384,
    /** @default false */
    required: false,
  },
} as const);
