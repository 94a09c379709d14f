/**
 * Compact JWS verification (RFC 7515 §5.2) with the checks in the order that keeps hostile input cheap: size, shape,
 * header (allow-list before any key lookup), signature length, then the signature itself. The payload is returned
 * as bytes; the JWT layer parses it only after the signature has verified.
 */
import type { Buffer } from 'node:buffer';

import { JoseError } from '../errors.js';
import { allowList, type Algorithm } from '../lib/algorithms.js';
import { signatureLength, verifySignature, verifySignatureAsync } from '../lib/signature.js';
import { Key } from '../jwk/key.js';
import type { KeyResolver } from '../jwks/key-set.js';
import {
  DEFAULT_MAX_TOKEN_LENGTH,
  decodeSegment,
  parseHeader,
  splitCompact,
  type ParsedHeader,
  type Segments,
} from './segments.js';
import type { JWSHeader } from './types.js';

/** Options for JWS verification. */
export interface VerifyJWSOptions {
  /** The algorithms you accept, e.g. `['RS256']`. Required: the token never chooses. */
  algorithms: readonly Algorithm[];
  /** Tokens longer than this are refused before any decoding. @default 8192 */
  maxTokenLength?: number;
}

/** A JWS whose signature verified. */
export interface VerifiedJWS {
  readonly header: Readonly<JWSHeader>;
  /** The base64url payload segment, already checked to be canonical. */
  readonly payloadSegment: string;
  /** The decoded payload bytes. */
  readonly payload: Buffer;
  /** The key that verified the signature. */
  readonly key: Key;
}

/**
 * A prepared compact-JWS verifier: call it to verify on this thread, or use `.async` to run an asymmetric
 * signature check on libuv's thread pool (same checks, same errors).
 */
export interface JWSVerifier {
  (token: string): VerifiedJWS;
  async(token: string): Promise<VerifiedJWS>;
}

/** Everything checked before the signature operation, and what that operation needs. */
interface Prepared {
  parts: Segments;
  parsed: ParsedHeader;
  payload: Buffer;
  signature: Buffer;
  key: Key;
}

const badSignature = (): JoseError =>
  new JoseError('ERR_JWS_SIGNATURE_INVALID', 'signature verification failed');

/** Headers are pure functions of their segment text; tokens from one issuer share a handful, so cache them. */
const HEADER_CACHE_SIZE = 64;

/**
 * Builds a compact-JWS verifier for a key or key set. Options are checked once, here (`TypeError` on misuse).
 *
 * @example
 * const verifyJWS = createJWSVerifier(publicKey, { algorithms: ['RS256'] });
 * const { header, payloadSegment } = verifyJWS(token);
 */
export function createJWSVerifier(keys: KeyResolver, options: VerifyJWSOptions): JWSVerifier {
  const allowed = allowList(options?.algorithms, 'verify');
  const maxLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  if (!Number.isSafeInteger(maxLength) || maxLength < 16) throw new TypeError('verify: bad "maxTokenLength"');
  if (typeof keys?.select !== 'function') throw new TypeError('verify: a Key or KeySet is required');
  // A private key verifies through its public half; the private material never touches the hot path.
  const resolver = keys instanceof Key && keys.type === 'private' ? keys.publicKey() : keys;
  const headers = new Map<string, ParsedHeader>();
  // Most tokens repeat the previous one's header exactly: compare the text before the Map lookup.
  let lastHeader = '';
  let lastParsed: ParsedHeader | undefined;

  function prepare(token: string): Prepared {
    const parts = splitCompact(token, maxLength);
    let parsed = parts.header === lastHeader ? lastParsed : headers.get(parts.header);
    if (parsed === undefined) {
      parsed = parseHeader(parts.header, allowed);
      if (headers.size >= HEADER_CACHE_SIZE) headers.clear();
      headers.set(parts.header, parsed);
    }
    lastHeader = parts.header;
    lastParsed = parsed;
    // Decoded once here (canonical check included); the JWT layer parses these bytes after the signature verifies.
    const payload = decodeSegment(parts.payload, 'payload');
    const signature = decodeSegment(parts.signature, 'signature');
    const { spec } = parsed;
    const key = resolver.select(spec.alg, parsed.kid);
    // Re-checked here so that no resolver, however written, can make a key serve another family (RFC 8725 §3.1).
    if (!(key instanceof Key) || !key.supports(spec.alg)) {
      throw new JoseError('ERR_JOSE_KEY_MISMATCH', `the selected key cannot verify ${spec.alg} tokens`, {
        claim: 'alg',
        reason: 'family',
      });
    }
    if (signature.length !== signatureLength(spec, key.bits)) {
      throw new JoseError('ERR_JWS_SIGNATURE_INVALID', 'signature verification failed', { reason: 'length' });
    }
    return { parts, parsed, payload, signature, key };
  }

  const verified = ({ parts, parsed, payload, key }: Prepared): VerifiedJWS => ({
    header: parsed.header,
    payloadSegment: parts.payload,
    payload,
    key,
  });

  const verifyCompact = function verifyCompact(token: string): VerifiedJWS {
    const p = prepare(token);
    const { spec } = p.parsed;
    if (
      !verifySignature(spec, p.key.keyObject, p.key.operationInput(spec), p.parts.signingInput, p.signature)
    ) {
      throw badSignature();
    }
    return verified(p);
  } as JWSVerifier;

  verifyCompact.async = async function verifyCompactAsync(token: string): Promise<VerifiedJWS> {
    const p = prepare(token);
    const { spec } = p.parsed;
    const ok = await verifySignatureAsync(
      spec,
      p.key.keyObject,
      p.key.operationInput(spec),
      p.parts.signingInput,
      p.signature,
    );
    if (!ok) throw badSignature();
    return verified(p);
  };
  return verifyCompact;
}

/**
 * Verifies a compact JWS and returns its payload bytes. For JWTs use `verify`, which also checks the claims.
 *
 * @example
 * const { payload } = verifyJWS(token, key, { algorithms: ['ES256'] });
 */
export function verifyJWS(
  token: string,
  keys: KeyResolver,
  options: VerifyJWSOptions,
): { header: Readonly<JWSHeader>; payload: Buffer; key: Key } {
  const { header, payload, key } = createJWSVerifier(keys, options)(token);
  return { header, payload, key };
}
