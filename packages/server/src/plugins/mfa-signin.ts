/**
 * The second step of the two-step sign-in: `POST /api/login/mfa` exchanges the MFA token of the password step
 * plus a code, a recovery code or a passkey assertion for the normal token response (`acr` aal2, `amr` with `mfa`),
 * bound to the DPoP key the password step proved (which this step must prove again).
 * `POST /api/login/mfa/passkey-options` gives the WebAuthn options for the account the MFA token is for.
 */
import type { FastifyInstance } from 'fastify';

import type { MfaSignInBody } from '@jot/contract';

import { clientInfo } from '../http/client-info.js';
import { giveDeviceCredential } from '../http/device-credential.js';
import { tokenEndpointProof } from '../http/dpop-proof.js';
import { proofOf, proofProperties } from '../http/mfa-schemas.js';
import { authRateLimit } from '../http/rate-limit.js';
import { tokenRouteResponses } from '../http/schemas.js';
import { deviceTokenSchema } from '../http/session-body-schemas.js';
import { tokenResponse } from '../http/token-response.js';
import { passkeyOptions } from './passkey-options.js';

const mfaTokenSchema = { type: 'string', minLength: 20, maxLength: 4096 } as const;

/** Registers the second-step routes. */
export async function mfaSignInPlugin(app: FastifyInstance): Promise<void> {
  registerMfaSignInRoute(app);
  registerPasskeyOptionsRoute(app);
}

/** `POST /api/login/mfa`: the MFA token plus a second factor, for the normal token response. */
function registerMfaSignInRoute(app: FastifyInstance): void {
  const { config, sessions, mfa, events, metrics } = app.jot;
  const limit = { rateLimit: authRateLimit(config) };
  app.post<{ Body: MfaSignInBody }>(
    '/api/login/mfa',
    {
      config: limit,
      schema: {
        tags: ['accounts'],
        summary: 'Second sign-in step: the MFA token plus a second factor, for the token response.',
        body: {
          type: 'object',
          required: ['mfa_token'],
          additionalProperties: false,
          properties: { mfa_token: mfaTokenSchema, ...proofProperties, device_token: deviceTokenSchema },
        },
        response: tokenRouteResponses(400, 401, 403, 409, 429),
      },
    },
    async (request, reply) => {
      const proof = proofOf(request.body);
      // The DPoP proof first, as at the password step (a nonce round trip costs no attempt of the MFA token); the
      // service then requires its key to be the one the password step proved, before the second factor is checked.
      const dpopJkt = await tokenEndpointProof(request, reply, { required: config.dpop === 'required' });
      const done = await mfa.signIn.complete(request.body.mfa_token, proof, request.ip, dpopJkt);
      // The session re-reads the account after its row commits (services/sessions/start.ts): a sign-out everywhere
      // or a disable in the meantime refuses it, and the proof's recovery code is given back.
      const pair = await sessions
        .start(done.user, clientInfo(request), {
          delivery: done.delivery ?? config.tokenDelivery,
          amr: done.amr,
          acr: done.acr,
          dpopJkt: done.dpopJkt,
        })
        .catch(async (err: unknown) => {
          throw await done.refused(err);
        });
      metrics.logins.inc({ result: 'success' });
      if (proof.type === 'recovery_code') {
        const left = await mfa.factors.recoveryCodesLeft(done.user.id);
        await events.record('recovery_code_used', { userId: done.user.id, ip: request.ip, detail: { left } });
      }
      // The sign-in is complete only now: the device gets its credential here, not at the password step.
      const deviceToken = giveDeviceCredential(
        request,
        reply,
        done.user,
        request.body.device_token,
        pair.checkedAt,
      );
      return tokenResponse(request, reply, pair, deviceToken);
    },
  );
}

/** `POST /api/login/mfa/passkey-options`: WebAuthn options for the account the MFA token is for. */
function registerPasskeyOptionsRoute(app: FastifyInstance): void {
  const { config, mfa } = app.jot;
  const limit = { rateLimit: authRateLimit(config) };
  app.post<{ Body: { mfa_token: string } }>(
    '/api/login/mfa/passkey-options',
    {
      config: limit,
      schema: {
        tags: ['accounts'],
        summary: 'WebAuthn options for using a passkey as the second factor of this sign-in.',
        body: {
          type: 'object',
          required: ['mfa_token'],
          additionalProperties: false,
          properties: { mfa_token: mfaTokenSchema },
        },
      },
    },
    async (request, reply) => {
      return passkeyOptions(reply, await mfa.signIn.userOf(request.body.mfa_token));
    },
  );
}
