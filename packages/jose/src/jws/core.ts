/**
 * The compact-JWS checks shared by the JWS and JWT verifiers, in the order that keeps hostile input cheap: size,
 * shape, header (allow-list before any key lookup, parsed once per distinct header), canonical base64url of the
 * payload and signature, key selection bound to the algorithm, signature length, then the signature itself. The
 * payload is left encoded: each caller decodes it only after the signature has verified.
 */
import { Buffer } from 'node:buffer';

import { JoseError } from '../errors.js';
import { allowList, type Algorithm } from '../lib/algorithms.js';
import { scratch, scratchHead } from '../lib/scratch.js';
import { signatureLength, verifySignature, verifySignatureAsync } from '../lib/signature.js';
import { Key } from '../jwk/key.js';
import type { KeyResolver } from '../jwks/key-set.js';
import { HeaderCache } from './header-cache.js';
import {
  DEFAULT_MAX_TOKEN_LENGTH,
  encodedLength,
  requireCanonical,
  splitCompact,
  type ParsedHeader,
  type Segments,
} from './segments.js';

/** Options for JWS verification. */
export interface VerifyJWSOptions {
  /** The algorithms you accept, e.g. `['RS256']`. Required: the token never chooses. */
  algorithms: readonly Algorithm[];
  /** Tokens longer than this are refused before any decoding. @default 8192 */
  maxTokenLength?: number;
}

/** A token whose signature verified; its payload segment is canonical but not decoded yet. */
export interface CheckedJWS {
  readonly parts: Segments;
  readonly parsed: ParsedHeader;
  /** The key that verified the signature. */
  readonly key: Key;
}

/** Everything checked before the signature operation, and the signature's length in bytes. */
interface Prepared extends CheckedJWS {
  readonly signatureBytes: number;
}

/** Checks a token and its signature on this thread, or (`.async`) with an asymmetric check on libuv's pool. */
export interface JWSCore {
  (token: string): CheckedJWS;
  /**
   * The check with the signature verified on the pool. `then`, when given, maps the checked token in the same
   * reaction (one promise for the caller's next step instead of another of its own). Never throws: a token refused
   * before the signature check rejects the promise.
   */
  async(token: string): Promise<CheckedJWS>;
  async<R>(token: string, then: (jws: CheckedJWS) => R): Promise<R>;
}

const badSignature = (reason?: string): JoseError =>
  new JoseError(
    'ERR_JWS_SIGNATURE_INVALID',
    'signature verification failed',
    reason === undefined ? undefined : { reason },
  );

/** Validates the options once (`TypeError` on misuse) and returns the resolver and limits the hot path uses. */
function compileOptions(
  keys: KeyResolver,
  options: VerifyJWSOptions,
): { resolver: KeyResolver; headers: HeaderCache; maxLength: number } {
  const allowed = allowList(options?.algorithms, 'verify');
  const maxLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  if (!Number.isSafeInteger(maxLength) || maxLength < 16) throw new TypeError('verify: bad "maxTokenLength"');
  if (typeof keys?.select !== 'function') throw new TypeError('verify: a Key or KeySet is required');
  // A private key verifies through its public half; the private material never touches the hot path.
  const resolver = keys instanceof Key && keys.type === 'private' ? keys.publicKey() : keys;
  return { resolver, headers: new HeaderCache(allowed), maxLength };
}

/** The resolver's key for this header, re-checked so no resolver can make a key serve another family (RFC 8725 §3.1). */
function selectKey(resolver: KeyResolver, { spec, kid }: ParsedHeader): Key {
  const key = resolver.select(spec.alg, kid);
  if (!(key instanceof Key) || !key.supports(spec.alg)) {
    throw new JoseError('ERR_JOSE_KEY_MISMATCH', `the selected key cannot verify ${spec.alg} tokens`, {
      claim: 'alg',
      reason: 'family',
    });
  }
  return key;
}

/**
 * The synchronous signature check, with the signature and (for RSA, ECDSA, EdDSA) the signing input written into
 * the scratch buffer rather than into Buffers of their own.
 */
function verifiesInline({ parts, parsed: { spec }, key, signatureBytes }: Prepared): boolean {
  const input = parts.signingInput;
  const bytes = scratch(signatureBytes + input.length);
  bytes.write(parts.signature, 0, signatureBytes, 'base64url');
  const signature = scratchHead(signatureBytes);
  let data: string | Buffer = input;
  if (spec.family !== 'oct') {
    bytes.write(input, signatureBytes, input.length, 'latin1');
    data = bytes.subarray(signatureBytes, signatureBytes + input.length);
  }
  return verifySignature(spec, key.keyObject, key.operationInput(spec), data, signature);
}

/** The signature check with an asymmetric operation on libuv's thread pool (fresh Buffers: it outlives this call). */
function verifiesOnPool({ parts, parsed: { spec }, key }: Prepared): Promise<boolean> {
  const signature = Buffer.from(parts.signature, 'base64url');
  return verifySignatureAsync(spec, key.keyObject, key.operationInput(spec), parts.signingInput, signature);
}

/** Builds the shared core of `createJWSVerifier` and `createVerifier`. Options are checked here, once. */
export function createJWSCore(keys: KeyResolver, options: VerifyJWSOptions): JWSCore {
  const { resolver, headers, maxLength } = compileOptions(keys, options);

  function prepare(token: string): Prepared {
    const parts = splitCompact(token, maxLength);
    const parsed = headers.get(parts.header);
    requireCanonical(parts.payload, 'payload');
    requireCanonical(parts.signature, 'signature');
    const key = selectKey(resolver, parsed);
    // Canonical base64url fixes the byte length by the text length, so this is the decoded length check.
    const signatureBytes = signatureLength(parsed.spec, key.bits);
    if (parts.signature.length !== encodedLength(signatureBytes)) throw badSignature('length');
    return { parts, parsed, key, signatureBytes };
  }

  const core = function verifyCompact(token: string): CheckedJWS {
    const prepared = prepare(token);
    if (!verifiesInline(prepared)) throw badSignature();
    return prepared;
  } as JWSCore;
  core.async = function verifyCompactAsync<R>(
    token: string,
    then?: (jws: CheckedJWS) => R,
  ): Promise<R | CheckedJWS> {
    let prepared: Prepared;
    try {
      prepared = prepare(token);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return verifiesOnPool(prepared).then((valid) => {
      if (!valid) throw badSignature();
      return then === undefined ? prepared : then(prepared);
    });
  };
  return core;
}
