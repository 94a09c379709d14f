/**
 * What a request following an account link shows of who follows it (services/registrant-proof.ts): the routes that
 * take that proof — the first verification of an address (`POST /api/email/verify`) and an email-change
 * confirmation (`POST /api/email/change/confirm`) — read it from the request the same way, here: a session of the
 * account (judged only when asked), the password of the body, the device credentials the request presents, and the
 * route's lock-refusal events as where a password check reports.
 */
import type { FastifyRequest } from 'fastify';

import { deviceTokens } from '../http/device-credential.js';
import type { LockRefusalEvents } from '../http/lock-refusal-events.js';
import type { LinkFollowerProof } from '../services/registrant-proof.js';
import { signedInUserId } from './auth.js';

/** The proof `request` offers, with the `password` of its body; its checks are recorded through `lockEvents`. */
export function linkFollowerProof(
  request: FastifyRequest,
  password: string | undefined,
  lockEvents: LockRefusalEvents,
): LinkFollowerProof {
  return {
    signedInAs: () => signedInUserId(request),
    password,
    // A link's body has no `device_token`: the cookie's credentials only.
    deviceTokens: deviceTokens(request, undefined),
    report: (userId) => lockEvents.reportFor({ ip: request.ip, userId }),
  };
}
