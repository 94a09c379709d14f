/**
 * A local JSON Web Key Set: keys looked up by `kid` in a `Map` (a `kid` of `__proto__` finds nothing), then by
 * whether the key may be used with the token's `alg`. Keys that cannot be imported, or are for encryption, are
 * skipped rather than failing the whole set, so one odd key published by an issuer does not stop verification.
 */
import { JoseError } from '../errors.js';
import type { Algorithm } from '../lib/algorithms.js';
import { importJWK } from '../jwk/import-jwk.js';
import type { Key } from '../jwk/key.js';
import type { JWKS } from '../jwk/types.js';

/** Something that can pick the key for a token header. A `Key` or a `KeySet`. */
export interface KeyResolver {
  /** Returns the one key for this `alg` and `kid`, or throws a `JoseError`. */
  select(alg: Algorithm, kid: string | undefined): Key;
}

/** A set of keys selectable by `kid` and `alg`. */
export class KeySet implements KeyResolver {
  readonly keys: readonly Key[];
  readonly #byKid: Map<string, Key[]>;

  constructor(keys: Iterable<Key>) {
    this.keys = Object.freeze([...keys]);
    this.#byKid = new Map();
    for (const key of this.keys) {
      const list = this.#byKid.get(key.kid);
      if (list) list.push(key);
      else this.#byKid.set(key.kid, [key]);
    }
  }

  /**
   * Builds a key set from a JWKS document (`{ keys: [...] }`). Members that are not usable signing keys are skipped
   * and counted in `skipped`.
   *
   * @example
   * const keys = KeySet.fromJWKS(await (await fetch(jwksUri)).json());
   */
  static fromJWKS(jwks: unknown): KeySet & { readonly skipped: number } {
    if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as Partial<JWKS>).keys)) {
      throw new JoseError('ERR_KEY_INVALID', 'a JWKS must be an object with a "keys" array', {
        reason: 'jwks',
      });
    }
    const keys: Key[] = [];
    let skipped = 0;
    for (const jwk of (jwks as JWKS).keys) {
      try {
        keys.push(importJWK(jwk));
      } catch {
        skipped += 1;
      }
    }
    const set = new KeySet(keys) as KeySet & { skipped: number };
    set.skipped = skipped;
    return set;
  }

  /** The key with this `kid` (the first, if several share it). */
  get(kid: string): Key | undefined {
    return this.#byKid.get(kid)?.[0];
  }

  select(alg: Algorithm, kid: string | undefined): Key {
    const candidates = kid === undefined ? this.keys : (this.#byKid.get(kid) ?? []);
    let found: Key | undefined;
    for (const key of candidates) {
      if (!key.supports(alg)) continue;
      if (found !== undefined) {
        throw new JoseError(
          'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
          'more than one key in the set matches the token; tokens must carry a "kid"',
          { claim: 'kid', reason: 'ambiguous' },
        );
      }
      found = key;
    }
    if (found === undefined) {
      throw new JoseError(
        'ERR_JWKS_NO_MATCHING_KEY',
        `no key in the set matches the token's kid and ${alg}`,
        {
          claim: 'kid',
          reason: 'no_match',
        },
      );
    }
    return found;
  }

  /** The public JWKS document for these keys (private and secret members never included; secrets skipped). */
  toJWKS(): JWKS {
    return { keys: this.keys.filter((key) => key.type !== 'secret').map((key) => key.toJWK()) };
  }
}
