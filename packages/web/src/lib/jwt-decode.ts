/**
 * Decodes a compact JWT for display, in the browser (atob + TextDecoder; `@jot/jose` uses node:crypto and stays
 * out of the bundle). Nothing decoded here is trusted — it is exactly what the token claims about itself. Parts
 * that are not canonical base64url (non-zero trailing bits: several spellings of the same bytes) still decode, so
 * the reader can see them, but are listed in `nonCanonical` — Jot rejects such a token.
 */

/** A decoded, unverified token. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `base64url(header) + "." + base64url(payload)`, the bytes the signature covers (RFC 7515 §5.1). */
  signingInput: string;
  signature: Uint8Array;
  /** The parts whose base64url is not canonical (re-encoding the decoded bytes gives different text). */
  nonCanonical: ('header' | 'payload' | 'signature')[];
}

/** Why a token could not be decoded. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** Decodes base64url (RFC 4648 §5) without padding; throws on any other alphabet. */
export function base64urlToBytes(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new DecodeError('not base64url');
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    throw new DecodeError('not base64url');
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Encodes `bytes` as canonical base64url without padding. */
export function bytesToBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** True when `text` is the one canonical base64url spelling of the bytes it decodes to. */
export function isCanonicalBase64url(text: string): boolean {
  return bytesToBase64url(base64urlToBytes(text)) === text;
}

function decodePart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64urlToBytes(part)));
  } catch {
    throw new DecodeError(`the ${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new DecodeError(`the ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Decodes `token` (surrounding whitespace and a "Bearer " prefix are tolerated); throws `DecodeError`. */
export function decodeJwt(token: string): DecodedJwt {
  const compact = token.trim().replace(/^Bearer\s+/i, '');
  const parts = compact.split('.');
  if (parts.length === 5)
    throw new DecodeError('this is a JWE (encrypted token, five parts); only signed JWTs can be decoded');
  if (parts.length !== 3)
    throw new DecodeError(`a JWT has three dot-separated parts; this has ${parts.length}`);
  const [header, payload, signature] = parts as [string, string, string];
  let sig: Uint8Array;
  try {
    sig = base64urlToBytes(signature);
  } catch {
    throw new DecodeError('the signature is not base64url');
  }
  const encoded = { header, payload, signature } as const;
  return {
    header: decodePart(header, 'header'),
    payload: decodePart(payload, 'payload'),
    signingInput: `${header}.${payload}`,
    signature: sig,
    nonCanonical: (['header', 'payload', 'signature'] as const).filter(
      (name) => !isCanonicalBase64url(encoded[name]),
    ),
  };
}
