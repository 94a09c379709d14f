/**
 * Anti-CSRF tokens for cookie-authenticated sessions. A session's token is HMAC-SHA256(csrfKey, sid), with the
 * key derived from the KEK, so it is stable for the session and can be handed again to a page that reloaded without
 * being stored anywhere. Its SHA-256 is bound into every access token of the session as the `cth` claim; a
 * mutating request authenticated by cookie must carry the token in `X-Csrf-Token` — checked against `cth` by the
 * shared request authentication (`@jot/verify`'s `checkCsrf`), as at every resource server.
 */
import { Buffer } from 'node:buffer';
import { createHmac, hkdfSync } from 'node:crypto';

import { VerifyError } from '@jot/verify';

import { safeEqual } from './secrets.js';

/** Who a request refused for CSRF claimed to be (recorded as a `csrf_rejected` event by `http/csrf-events.ts`). */
export interface CsrfSubject {
  userId?: string;
  sessionId?: string;
}

/**
 * The `ERR_CSRF` refusal — the one request authentication gives (`@jot/verify`'s, or a message for the refresh
 * cookie's check) — carrying `subject` (never serialised) as its cause for the security event.
 */
export function csrfRefusal(refusal: string | VerifyError, subject: CsrfSubject): VerifyError {
  const cause = { csrf: subject };
  if (typeof refusal === 'string') return new VerifyError('ERR_CSRF', refusal, { cause });
  return new VerifyError('ERR_CSRF', refusal.message, { reason: refusal.reason, cause });
}

/** Derives and checks CSRF tokens. */
export interface CsrfTokens {
  /** The session's CSRF token. */
  forSession(sessionId: string): string;
  /** Whether `presented` is the session's token. Constant time. */
  matchesSession(sessionId: string, presented: string | undefined): boolean;
}

/** Builds the CSRF token service from the key-encryption key. */
export function createCsrfTokens(kek: Uint8Array): CsrfTokens {
  const key = Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'jot csrf token v1', 32));
  const forSession = (sessionId: string): string =>
    createHmac('sha256', key).update(sessionId).digest('base64url');
  return {
    forSession,
    matchesSession: (sessionId, presented) =>
      presented !== undefined && safeEqual(forSession(sessionId), presented),
  };
}
