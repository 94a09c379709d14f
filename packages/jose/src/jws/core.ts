/**
 * The compact-JWS checks shared by the JWS and JWT verifiers, in the order that keeps hostile input cheap: size,
 * shape, header (allow-list before any key lookup, parsed once per distinct header), key selection bound to the
 * algorithm, signature length, canonical base64url of the payload and signature (checked as they are decoded), then
 * the signature itself. The payload is decoded but not parsed: each caller parses it only after the signature has
 * verified.
 */
import type { Buffer } from 'node:buffer';

import { JoseError } from '../errors.js';
import { allowList, type Algorithm } from '../lib/algorithms.js';
import { scratch, scratchHead } from '../lib/scratch.js';
import { decodeBase64url, decodeCanonicalInto, isCanonicalBase64url } from '../lib/base64url.js';
import { signatureLength, verifySignature, verifySignatureAsync } from '../lib/signature.js';
import { Key } from '../jwk/key.js';
import type { KeyResolver } from '../jwks/key-set.js';
import { HeaderCache } from './header-cache.js';
import {
  DEFAULT_MAX_TOKEN_LENGTH,
  encodedLength,
  notCanonical,
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

/**
 * A token whose signature verified, with its payload decoded but not parsed: `payloadBytes[payloadStart, payloadEnd)`.
 * On the synchronous path those bytes live in the scratch buffer and are valid only until the next verification:
 * read or copy them before returning to the caller.
 */
export interface CheckedJWS {
  readonly parts: Segments;
  readonly parsed: ParsedHeader;
  /** The key that verified the signature. */
  readonly key: Key;
  readonly payloadBytes: Buffer;
  readonly payloadStart: number;
  readonly payloadEnd: number;
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

/** The expected signature length in bytes, checked against the text's length (canonical base64url fixes one by the other). */
function signatureBytesOf(parts: Segments, { spec }: ParsedHeader, key: Key): number {
  const bytes = signatureLength(spec, key.bits);
  if (parts.signature.length !== encodedLength(bytes)) {
    // A text of the wrong length that is not even base64url is reported as such.
    throw isCanonicalBase64url(parts.signature) ? badSignature('length') : notCanonical('signature');
  }
  return bytes;
}

/** A segment decoded into a Buffer of its own, or `ERR_JWS_INVALID` when it is not canonical base64url. */
function decodeFresh(segment: string, what: string): Buffer {
  const bytes = decodeBase64url(segment);
  if (bytes === undefined) throw notCanonical(what);
  return bytes;
}

/** Builds the shared core of `createJWSVerifier` and `createVerifier`. Options are checked here, once. */
export function createJWSCore(keys: KeyResolver, options: VerifyJWSOptions): JWSCore {
  const { resolver, headers, maxLength } = compileOptions(keys, options);

  /**
   * The synchronous check. The payload, the signature and (for RSA, ECDSA, EdDSA) the signing input are written into
   * the scratch buffer — `[signature | payload | signing input]` — rather than into Buffers of their own; each
   * segment's canonical spelling is checked as it is decoded, before the signature operation (RFC 7515 §5.2 steps
   * 7–8), and the payload is decoded once, for this check and for the caller. Nothing runs between the decoding and
   * the caller's read but `node:crypto`: the key resolver, which may be user code, has already been asked.
   */
  const core = function verifyCompact(token: string): CheckedJWS {
    const parts = splitCompact(token, maxLength);
    const parsed = headers.get(parts.header);
    const key = selectKey(resolver, parsed);
    const signatureBytes = signatureBytesOf(parts, parsed, key);
    const input = parts.signingInput;
    const bytes = scratch(signatureBytes + parts.payload.length + input.length);
    const payloadLength = decodeCanonicalInto(parts.payload, bytes, signatureBytes);
    if (payloadLength < 0) throw notCanonical('payload');
    if (decodeCanonicalInto(parts.signature, bytes, 0) !== signatureBytes) throw notCanonical('signature');
    const payloadEnd = signatureBytes + payloadLength;
    const { spec } = parsed;
    let data: string | Buffer = input;
    if (spec.family !== 'oct') {
      bytes.write(input, payloadEnd, input.length, 'latin1');
      data = bytes.subarray(payloadEnd, payloadEnd + input.length);
    }
    const signature = scratchHead(signatureBytes);
    if (!verifySignature(spec, key.keyObject, key.operationInput(spec), data, signature))
      throw badSignature();
    return { parts, parsed, key, payloadBytes: bytes, payloadStart: signatureBytes, payloadEnd };
  } as JWSCore;
  /** The same checks with an asymmetric operation on libuv's thread pool (fresh Buffers: it outlives this call). */
  core.async = function verifyCompactAsync<R>(
    token: string,
    then?: (jws: CheckedJWS) => R,
  ): Promise<R | CheckedJWS> {
    let checked: CheckedJWS;
    let signature: Buffer;
    try {
      const parts = splitCompact(token, maxLength);
      const parsed = headers.get(parts.header);
      const key = selectKey(resolver, parsed);
      signatureBytesOf(parts, parsed, key);
      const payload = decodeFresh(parts.payload, 'payload');
      signature = decodeFresh(parts.signature, 'signature');
      checked = { parts, parsed, key, payloadBytes: payload, payloadStart: 0, payloadEnd: payload.length };
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const { parts, parsed, key } = checked;
    const { spec } = parsed;
    return verifySignatureAsync(
      spec,
      key.keyObject,
      key.operationInput(spec),
      parts.signingInput,
      signature,
    ).then((valid) => {
      if (!valid) throw badSignature();
      return then === undefined ? checked : then(checked);
    });
  };
  return core;
}
