/**
 * Refresh tokens the server can recognise as its own without a lookup. A refresh token is 32 bytes (43 base64url
 * characters, as ever). The store keeps only the token's hash and forgets it when the session ends (logout,
 * revocation, reuse, account deletion, pruning), so a miss in the store cannot tell a stale token from a guess; the
 * tag can: a token whose tag checks was issued by this deployment (stale), anything else is a guess or garbage —
 * only those spend an address's failure budget (plugins/caller-limits.ts).
 *
 * Version 2 (issued now): 14 random bytes (112 bits), the 8-byte marker of the token's family, and the first 10 bytes
 * of HMAC-SHA256(tagKey₂, random ‖ marker). A family is the chain of tokens one rotation after another, from a
 * sign-in (or a password change's new token, or the first rotation of an older token) to the session's end: its
 * marker is drawn at random when it starts and every successor carries it on, so a rotated token whose row was
 * pruned (store/refresh-token-pruning.ts) still names its family — found by the marker the rows of the family's
 * later tokens carry (`refresh_tokens.marker`, migration 0018) — and presenting it again is still reuse. Under the
 * tag, so nobody without the key can make a token that names a family.
 *
 * Version 1 (issued before): 22 random bytes and the first 10 bytes of HMAC-SHA256(tagKey₁, those bytes); still
 * recognised, and rotated into version 2 at their next refresh. Tokens issued before tags existed carry none and count
 * as unknown until their next rotation. Every key is derived from the KEK (shared by every instance).
 */
import { Buffer } from 'node:buffer';
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_BYTES = 32;
const TAG_BYTES = 10;
const V2_RANDOM_BYTES = 14;
const MARKER_BYTES = 8;
/** Length of a token in base64url without padding: 4 characters per 3 bytes, rounded up. */
const TOKEN_CHARS = Math.ceil((TOKEN_BYTES * 4) / 3);

/** Issues and recognises refresh tokens. */
export interface RefreshTokenTags {
  /** A new refresh token of the family `marker` (hex, from `newMarker` or the predecessor's row), tagged. */
  issue(marker: string): string;
  /** Whether `token` carries this deployment's tag, of either version (constant time over the tag). */
  isIssued(token: string): boolean;
  /** The marker (hex) of a version-2 token this deployment issued; undefined for any other string. */
  markerOf(token: string): string | undefined;
  /** A new family's marker (hex): 8 random bytes. */
  newMarker(): string;
}

const derive = (kek: Uint8Array, info: string): Buffer =>
  Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), info, 32));

const mac = (key: Buffer, ...parts: Buffer[]): Buffer => {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
};

/** The token's 32 bytes, if `token` is the one spelling `issue` writes of 32 bytes. */
function decode(token: string): Buffer | undefined {
  if (token.length !== TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const raw = Buffer.from(token, 'base64url');
  // Only the spelling `issue` writes: the last character carries two unused bits, and the three other spellings
  // that decode to the same bytes are not tokens this server issued (the store hashes the string).
  if (raw.length !== TOKEN_BYTES || raw.toString('base64url') !== token) return undefined;
  return raw;
}

/** Builds the refresh-token tags from the key-encryption key. */
export function createRefreshTokenTags(kek: Uint8Array): RefreshTokenTags {
  const v1Key = derive(kek, 'jot refresh token tag v1');
  const v2Key = derive(kek, 'jot refresh token tag v2');
  const v1Tag = (raw: Buffer): Buffer =>
    mac(v1Key, raw.subarray(0, TOKEN_BYTES - TAG_BYTES)).subarray(0, TAG_BYTES);
  const v2Tag = (raw: Buffer): Buffer =>
    mac(v2Key, raw.subarray(0, TOKEN_BYTES - TAG_BYTES)).subarray(0, TAG_BYTES);
  const v2Valid = (raw: Buffer): boolean =>
    timingSafeEqual(v2Tag(raw), raw.subarray(TOKEN_BYTES - TAG_BYTES));
  return {
    issue(marker) {
      const markerBytes = Buffer.from(marker, 'hex');
      if (markerBytes.length !== MARKER_BYTES || markerBytes.toString('hex') !== marker) {
        throw new Error(`a refresh-token marker is ${MARKER_BYTES} bytes of lower-case hex`);
      }
      const body = Buffer.concat([randomBytes(V2_RANDOM_BYTES), markerBytes]);
      return Buffer.concat([body, v2Tag(body)]).toString('base64url');
    },
    isIssued(token) {
      const raw = decode(token);
      if (raw === undefined) return false;
      // Both tags computed whatever the first says: a token of either version costs the same work.
      const v2 = v2Valid(raw);
      const v1 = timingSafeEqual(v1Tag(raw), raw.subarray(TOKEN_BYTES - TAG_BYTES));
      return v2 || v1;
    },
    markerOf(token) {
      const raw = decode(token);
      if (raw === undefined || !v2Valid(raw)) return undefined;
      return raw.subarray(V2_RANDOM_BYTES, V2_RANDOM_BYTES + MARKER_BYTES).toString('hex');
    },
    newMarker() {
      return randomBytes(MARKER_BYTES).toString('hex');
    },
  };
}
