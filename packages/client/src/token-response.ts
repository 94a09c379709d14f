/**
 * Turns a login, refresh or re-authentication response into a {@link SessionSnapshot}, checking that its shape is
 * the one the mode promises. A cookie-mode client that receives a token in the body (a server that ignored
 * `delivery`) refuses it rather than silently holding a token script can read.
 */
import type { SessionTokenResponse } from '@jot/contract';

import { JotClientError } from './errors.js';
import type { SessionSnapshot } from './session-state.js';
import type { DeliveryMode, TokenMode } from './types.js';

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Validates `body` for `mode` and returns the snapshot, with `expiresAt` computed from `now`. `previousRefresh`
 * (bearer mode) is kept when the answer carries no refresh token: `POST /api/reauth` renews only the access token.
 * In single-token mode (`tokenMode: 'single'`) there is never a refresh token, in the body or in a cookie.
 */
export function snapshotFrom(
  body: unknown,
  mode: DeliveryMode,
  now: number,
  previousCsrf?: string,
  previousRefresh?: string,
  tokenMode: TokenMode = 'refresh',
): SessionSnapshot {
  // The members of the contract's response, each still unchecked: a renamed member fails to compile here.
  const fields: Partial<Record<keyof SessionTokenResponse, unknown>> =
    typeof body === 'object' && body !== null ? body : {};
  const expiresIn = fields.expires_in;
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new JotClientError('ERR_CLIENT_BAD_RESPONSE', 'the token response has no valid expires_in');
  }
  const accessToken = str(fields.access_token);
  const bodyRefreshToken = str(fields.refresh_token);
  const refreshToken = mode === 'bearer' ? (bodyRefreshToken ?? previousRefresh) : bodyRefreshToken;
  const csrfToken = str(fields.csrf_token) ?? previousCsrf;
  const expiresAt = now + expiresIn * 1000;
  // 1e306 is a finite expires_in but an infinite expiry: no timer could ever be armed for it.
  if (!Number.isFinite(expiresAt)) {
    throw new JotClientError('ERR_CLIENT_BAD_RESPONSE', 'the token response has no valid expires_in');
  }
  const snapshot: SessionSnapshot = { expiresAt };
  const mismatch = (what: string): JotClientError =>
    new JotClientError(
      'ERR_CLIENT_DELIVERY_MISMATCH',
      `${mode} mode expects ${what}; check the server's delivery setting`,
    );
  switch (mode) {
    case 'bearer':
      if (tokenMode === 'single') {
        if (accessToken === undefined || bodyRefreshToken !== undefined)
          throw mismatch('an access_token and no refresh_token (single-token mode)');
        snapshot.accessToken = accessToken;
        break;
      }
      if (accessToken === undefined || refreshToken === undefined)
        throw mismatch('access_token and refresh_token in the body');
      snapshot.accessToken = accessToken;
      snapshot.refreshToken = refreshToken;
      break;
    case 'memory':
      if (accessToken === undefined || refreshToken !== undefined || csrfToken === undefined)
        throw mismatch('access_token and csrf_token, and the refresh token only in a cookie');
      snapshot.accessToken = accessToken;
      snapshot.csrfToken = csrfToken;
      break;
    case 'cookie':
      if (accessToken !== undefined || refreshToken !== undefined || csrfToken === undefined)
        throw mismatch('a csrf_token and no token in the body');
      snapshot.csrfToken = csrfToken;
      break;
  }
  return snapshot;
}
