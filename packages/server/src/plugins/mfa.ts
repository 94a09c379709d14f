/**
 * The signed-in user's second factors: status, authenticator-app (TOTP) enrolment and confirmation, recovery codes,
 * renaming and removal, and the second-factor step-up (`POST /api/mfa/step-up`, RFC 9470). Adding a factor, new
 * recovery codes and removing a factor are sensitive: they need a recent (multi-factor, when enrolled) sign-in.
 */
import type { FastifyInstance } from 'fastify';

import type { MfaStatusView, RecoveryCodesView, TotpEnrolmentView } from '@jot/contract';

import {
  factorNameSchema,
  factorParams,
  factorSchema,
  proofOf,
  proofProperties,
  publicFactor,
  type ProofBody,
} from '../http/mfa-schemas.js';
import { authRateLimit, verifiedLimit } from '../http/rate-limit.js';
import { authErrors, tokenResponseSchema } from '../http/schemas.js';
import { tokenResponse } from '../http/token-response.js';
import { ACR } from '../services/mfa.js';
import { mfaAmr } from '../services/mfa-signin.js';
import { HttpError } from '../http/errors.js';
import type { User } from '../store/index.js';
import { authenticate, authOf, requireStepUp } from './auth.js';

const recoveryCodesSchema = { type: 'array', items: { type: 'string' } } as const;

/** Registers the `/api/mfa` routes. */
export async function mfaPlugin(app: FastifyInstance): Promise<void> {
  const { store, sessions, events, config, clock, mfa } = app.jot;
  const fresh = requireStepUp({ always: true });
  // Code-checking routes: limited per address and per verified user (never per header spelling).
  const credentialLimit = { rateLimit: authRateLimit(config) };
  const perUser = verifiedLimit(
    app,
    'mfa-check',
    config.rateLimitAuth,
    (request) => authOf(request).claims.sub,
  );

  async function userOf(id: string): Promise<User> {
    const user = await store.getUserById(id);
    if (user === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'the account no longer exists');
    return user;
  }

  app.get(
    '/api/mfa',
    {
      preHandler: authenticate,
      schema: {
        tags: ['mfa'],
        summary: "The signed-in user's second factors and recovery codes left.",
        response: {
          200: {
            type: 'object',
            properties: {
              enabled: { type: 'boolean' },
              required: { type: 'boolean' },
              factors: { type: 'array', items: factorSchema },
              recovery_codes_left: { type: 'integer' },
            },
          },
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const factors = await mfa.factors.factors(claims.sub);
      const required =
        config.mfaRequired === 'all' || (config.mfaRequired === 'admins' && claims.roles.includes('admin'));
      reply.header('cache-control', 'no-store');
      return {
        enabled: factors.length > 0,
        required,
        factors: factors.map(publicFactor),
        recovery_codes_left: await mfa.factors.recoveryCodesLeft(claims.sub),
      } satisfies MfaStatusView;
    },
  );

  app.post(
    '/api/mfa/totp',
    {
      preHandler: fresh,
      schema: {
        tags: ['mfa'],
        summary:
          'Start setting up an authenticator app: the secret as text and as an otpauth:// URI (QR code).',
        response: {
          200: {
            type: 'object',
            properties: {
              factor_id: { type: 'string' },
              secret: { type: 'string' },
              otpauth_uri: { type: 'string' },
            },
          },
          ...authErrors,
          409: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const enrolment = await mfa.factors.startTotp(await userOf(authOf(request).claims.sub));
      reply.header('cache-control', 'no-store');
      return {
        factor_id: enrolment.factorId,
        secret: enrolment.secret,
        otpauth_uri: enrolment.uri,
      } satisfies TotpEnrolmentView;
    },
  );

  app.post<{ Body: { factor_id: string; code: string } }>(
    '/api/mfa/totp/confirm',
    {
      preHandler: [authenticate, perUser],
      config: credentialLimit,
      schema: {
        tags: ['mfa'],
        summary:
          'Finish setting up the authenticator app with its first code. Returns the recovery codes (once) and ' +
          'tokens of this session at the multi-factor level.',
        body: {
          type: 'object',
          required: ['factor_id', 'code'],
          additionalProperties: false,
          properties: { factor_id: { type: 'string', maxLength: 64 }, code: proofProperties.code },
        },
        response: {
          200: {
            type: 'object',
            properties: { ...tokenResponseSchema.properties, recovery_codes: recoveryCodesSchema },
          },
          ...authErrors,
          404: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const user = await userOf(claims.sub);
      const codes = await mfa.factors.confirmTotp(user, request.body.factor_id, request.body.code.trim());
      await events.record('mfa_enrolled', {
        userId: user.id,
        sessionId: claims.sid,
        ip: request.ip,
        detail: { kind: 'totp' },
      });
      // The first code proves the factor: this session now stands at the multi-factor level.
      const session = await store.getSession(claims.sid);
      const pair = await sessions.reissue(claims.sid, {
        authTime: clock(),
        amr: mfaAmr(session?.amr ?? ['pwd'], ['otp']),
        acr: ACR.multi,
      });
      return { ...tokenResponse(request, reply, pair), recovery_codes: codes };
    },
  );

  app.post(
    '/api/mfa/recovery-codes',
    {
      preHandler: fresh,
      schema: {
        tags: ['mfa'],
        summary: 'Replace the recovery codes with 10 new ones (shown once; the old ones stop working).',
        response: {
          200: { type: 'object', properties: { recovery_codes: recoveryCodesSchema } },
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const codes = await mfa.factors.newRecoveryCodes(claims.sub);
      await events.record('recovery_codes_regenerated', {
        userId: claims.sub,
        sessionId: claims.sid,
        ip: request.ip,
      });
      reply.header('cache-control', 'no-store');
      return { recovery_codes: codes } satisfies RecoveryCodesView;
    },
  );

  app.patch<{ Params: { id: string }; Body: { name: string } }>(
    '/api/mfa/factors/:id',
    {
      preHandler: authenticate,
      schema: {
        tags: ['mfa'],
        summary: 'Rename a factor.',
        params: factorParams,
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: factorNameSchema },
        },
        response: { 204: { type: 'null' }, ...authErrors, 404: { $ref: 'JotError#' } },
      },
    },
    async (request, reply) => {
      await mfa.factors.rename(authOf(request).claims.sub, request.params.id, request.body.name.trim());
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/mfa/factors/:id',
    {
      preHandler: fresh,
      schema: {
        tags: ['mfa'],
        summary:
          'Remove a factor (needs a recent multi-factor sign-in). With the last one go the recovery codes.',
        params: factorParams,
        response: { 204: { type: 'null' }, ...authErrors, 404: { $ref: 'JotError#' } },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      await mfa.factors.remove(claims.sub, request.params.id);
      await events.record('mfa_removed', {
        userId: claims.sub,
        sessionId: claims.sid,
        ip: request.ip,
        detail: { factor: request.params.id },
      });
      return reply.code(204).send();
    },
  );

  app.post<{ Body: ProofBody }>(
    '/api/mfa/step-up',
    {
      preHandler: [authenticate, perUser],
      config: credentialLimit,
      schema: {
        tags: ['mfa'],
        summary: 'Step-up (RFC 9470) with a second factor: tokens with a fresh auth_time and acr aal2.',
        body: { type: 'object', additionalProperties: false, properties: proofProperties },
        response: { 200: tokenResponseSchema, ...authErrors, 429: { $ref: 'JotError#' } },
      },
    },
    async (request, reply) => {
      const { claims } = authOf(request);
      const method = await mfa.signIn.stepUp(claims.sub, proofOf(request.body), request.ip);
      const session = await store.getSession(claims.sid);
      await events.record('mfa_step_up', { userId: claims.sub, sessionId: claims.sid, ip: request.ip });
      const pair = await sessions.reissue(claims.sid, {
        authTime: clock(),
        amr: mfaAmr(session?.amr ?? ['pwd'], method),
        acr: ACR.multi,
      });
      return tokenResponse(request, reply, pair);
    },
  );

  app.post(
    '/api/mfa/step-up/passkey-options',
    {
      preHandler: authenticate,
      schema: { tags: ['mfa'], summary: "WebAuthn options for a step-up with one of the user's passkeys." },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return mfa.passkeys.authenticationOptions(authOf(request).claims.sub);
    },
  );
}
