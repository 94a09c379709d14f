/**
 * Passwordless sign-in with a discoverable passkey that verified the user (PIN or biometric) — a multi-factor
 * authentication on its own (`amr` hwk + user + mfa, `acr` aal2). A DPoP proof binds the session, as at `POST /api/login`.
 */
import type { FastifyInstance } from 'fastify';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';

import type { PasskeyLoginBody } from '@jot/contract';

import { clientInfo } from '../../http/client-info.js';
import { HttpError } from '../../http/errors.js';
import { authRateLimit } from '../../http/rate-limit.js';
import { tokenRouteResponses } from '../../http/schemas.js';
import { deliverySchema, deviceTokenSchema } from '../../http/session-body-schemas.js';
import { loginProof } from '../../http/dpop-proof.js';
import { tokenResponse } from '../../http/token-response.js';
import { giveDeviceCredential } from '../../http/device-credential.js';
import { ACR } from '../../services/mfa.js';
import { passkeyOptions } from '../passkey-options.js';
import { credentialSchema } from './schemas.js';

/** The `amr` of a passwordless passkey sign-in (RFC 8176: key, user verified, more than one factor). */
export const PASSWORDLESS_AMR = ['hwk', 'user', 'mfa'] as const;

export const loginSchema = {
  tags: ['accounts'],
  summary: 'Passwordless sign-in with a passkey (user verification required).',
  body: {
    type: 'object',
    required: ['credential'],
    additionalProperties: false,
    properties: {
      credential: credentialSchema,
      delivery: deliverySchema,
      device_token: deviceTokenSchema,
    },
  },
  response: tokenRouteResponses(400, 401, 403),
} as const;

/** Registers `POST /api/passkeys/login/options` and `POST /api/passkeys/login`. */
export function registerPasskeyLoginRoutes(app: FastifyInstance): void {
  const { store, sessions, config, mfa, metrics } = app.jot;
  const limit = { rateLimit: authRateLimit(config) };

  app.post(
    '/api/passkeys/login/options',
    {
      config: limit,
      schema: { tags: ['accounts'], summary: 'WebAuthn options for a passwordless sign-in with a passkey.' },
    },
    async (_request, reply) => passkeyOptions(reply),
  );

  app.post<{ Body: PasskeyLoginBody }>(
    '/api/passkeys/login',
    { config: limit, schema: loginSchema },
    async (request, reply) => {
      const delivery = request.body.delivery ?? config.tokenDelivery;
      // The DPoP proof first, as at POST /api/login (a nonce round trip spends no challenge); it binds the session.
      const dpopJkt = await loginProof(request, reply, delivery);
      const verified = await mfa.passkeys.verifyAssertion(
        request.body.credential as unknown as AuthenticationResponseJSON,
        { requireUserVerification: true },
      );
      const user = await store.getUserById(verified.userId);
      if (user === undefined || user.status !== 'active') {
        throw new HttpError(403, 'ERR_USER_DISABLED', 'this account is disabled; contact an administrator');
      }
      metrics.logins.inc({ result: 'success' });
      const pair = await sessions.start(user, clientInfo(request), {
        delivery,
        amr: PASSWORDLESS_AMR,
        acr: ACR.multi,
        dpopJkt,
      });
      // A passwordless sign-in is a sign-in too: the device's later password sign-ins are not held by the lock.
      const deviceToken = giveDeviceCredential(
        request,
        reply,
        user,
        request.body.device_token,
        pair.checkedAt,
      );
      return tokenResponse(request, reply, pair, deviceToken);
    },
  );
}
