/**
 * The last step of a route that raises or renews the caller's own session (password change, password step-up): new
 * tokens for that session, answered in its delivery form — after a password change with a new device credential.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { SessionTokenResponse } from '@jot/contract';

import { giveDeviceCredential } from '../http/device-credential.js';
import { tokenResponse } from '../http/token-response.js';
import type { DeviceAccount } from '../services/login-devices.js';
import type { ReissueOptions } from '../services/sessions.js';
import { authOf } from './auth.js';

/**
 * Reissues the tokens of the authenticated caller's session with `options` and answers with them. `cutOff`: the
 * request cut the account off (a password change) — the answer gives the client a device credential as a sign-in
 * does (cookie, and `device_token` with body delivery), a fresh one since the cut-off ended those it held.
 */
export async function reissueResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  options: ReissueOptions,
  cutOff?: DeviceAccount,
): Promise<SessionTokenResponse> {
  const pair = await request.server.jot.sessions.reissue(authOf(request).claims.sid, options);
  // After the reissue, which waited past the cut-off's second: the new credential outlives the cut-off.
  const deviceToken =
    cutOff === undefined
      ? undefined
      : giveDeviceCredential(request, reply, cutOff, undefined, pair.checkedAt);
  return tokenResponse(request, reply, pair, deviceToken);
}
