/**
 * Refresh tokens the server can recognise as its own without a lookup. A refresh token is 32 bytes (43 base64url
 * characters, as ever): 22 random bytes (176 bits) and the first 10 bytes of HMAC-SHA256(tagKey, those random bytes),
 * the key derived from the KEK (shared by every instance). The store keeps only the token's hash and forgets it when
 * the session ends (logout, revocation, reuse, account deletion, pruning), so a miss in the store cannot tell a stale
 * token from a guess; the tag can: a token whose tag checks was issued by this deployment (stale), anything else is
 * a guess or garbage — only those spend an address's failure budget (plugins/caller-limits.ts). Tokens issued before
 * tags existed carry none and count as unknown until their next rotation.
 */
import { Buffer } from 'node:buffer';
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

const RANDOM_BYTES = 22;
const TAG_BYTES = 10;
/** Length of a token in base64url without padding: 4 characters per 3 bytes, rounded up. */
const TOKEN_CHARS = Math.ceil(((RANDOM_BYTES + TAG_BYTES) * 4) / 3);

/** Issues and recognises refresh tokens. */
export interface RefreshTokenTags {
  /** A new refresh token, tagged. */
  issue(): string;
  /** Whether `token` carries this deployment's tag (constant time over the tag). */
  isIssued(token: string): boolean;
}

/** Builds the refresh-token tags from the key-encryption key. */
export function createRefreshTokenTags(kek: Uint8Array): RefreshTokenTags {
  const key = Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'jot refresh token tag v1', 32));
  const tagOf = (random: Buffer): Buffer =>
    createHmac('sha256', key).update(random).digest().subarray(0, TAG_BYTES);
  return {
    issue() {
      const random = randomBytes(RANDOM_BYTES);
      return Buffer.concat([random, tagOf(random)]).toString('base64url');
    },
    isIssued(token) {
      if (token.length !== TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return false;
      const raw = Buffer.from(token, 'base64url');
      // Only the spelling `issue` writes: the last character carries two unused bits, and the three other spellings
      // that decode to the same bytes are not tokens this server issued (the store hashes the string).
      if (raw.length !== RANDOM_BYTES + TAG_BYTES || raw.toString('base64url') !== token) return false;
      return timingSafeEqual(tagOf(raw.subarray(0, RANDOM_BYTES)), raw.subarray(RANDOM_BYTES));
    },
  };
}
