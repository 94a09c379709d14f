/** New recovery codes, and renaming and removing a factor. */
import type { FastifyInstance } from 'fastify';

import type { RecoveryCodesView } from '@jot/contract';

import { factorName, factorNameSchema } from '../../http/mfa-schemas.js';
import { authErrors, idParams } from '../../http/schemas.js';
import { enrollingUser } from '../../services/mfa-enrolment.js';
import { authenticate, authOf } from '../auth.js';
import { callerOf } from '../caller.js';
import { recoveryCodesSchema, type MfaGuards } from './guards.js';
import { sensitiveMfaRoute } from './sensitive-route.js';

/** Registers `POST /api/mfa/recovery-codes`. */
function registerRecoveryCodesRoute(app: FastifyInstance, guards: MfaGuards): void {
  const { events, mfa } = app.jot;
  app.post(
    '/api/mfa/recovery-codes',
    sensitiveMfaRoute(
      guards,
      'Replace the recovery codes with 10 new ones (shown once; the old ones stop working).',
      { 200: { type: 'object', properties: { recovery_codes: recoveryCodesSchema } } },
    ),
    async (request, reply) => {
      const caller = callerOf(request);
      await enrollingUser(app.jot, caller.userId);
      const codes = await mfa.factors.newRecoveryCodes(caller.userId);
      await events.record('recovery_codes_regenerated', caller);
      reply.header('cache-control', 'no-store');
      return { recovery_codes: codes } satisfies RecoveryCodesView;
    },
  );
}

/** Registers the recovery-codes, rename and remove routes. */
export function registerFactorRoutes(app: FastifyInstance, guards: MfaGuards): void {
  const { events, mfa } = app.jot;
  registerRecoveryCodesRoute(app, guards);

  app.patch<{ Params: { id: string }; Body: { name: string } }>(
    '/api/mfa/factors/:id',
    {
      preHandler: authenticate,
      schema: {
        tags: ['mfa'],
        summary: 'Rename a factor (a blank name is refused).',
        params: idParams,
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
      const name = factorName(request.body.name);
      await mfa.factors.rename(authOf(request).claims.sub, request.params.id, name);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/mfa/factors/:id',
    sensitiveMfaRoute(
      guards,
      'Remove a factor (needs a recent multi-factor sign-in). With the last one go the recovery codes.',
      { 204: { type: 'null' }, 404: { $ref: 'JotError#' } },
      idParams,
    ),
    async (request, reply) => {
      const caller = callerOf(request);
      await mfa.factors.remove(caller.userId, request.params.id);
      await events.record('mfa_removed', { ...caller, detail: { factor: request.params.id } });
      return reply.code(204).send();
    },
  );
}
