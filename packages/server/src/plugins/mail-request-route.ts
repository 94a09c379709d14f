/**
 * The two shapes of the mail-link endpoints. An anonymous "send me a link" endpoint (forgotten password, new verification link): `{ email }` in,
 * `202` with the same body after the same minimum time whether or not an account has the address (the work for a
 * real account runs behind that floor), limited per client (`JOT_RATE_LIMIT_AUTH`) and per address
 * (`JOT_RATE_LIMIT_MAIL`, applied alike to unknown addresses so a 429 reveals nothing). A "follow the link"
 * endpoint (verify the address, reset the password): the link's `{ token }` (and the route's other fields) in, the
 * service's answer out, limited per client.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { MailLinkRequestBody } from '@jot/contract';
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { mailLinkRequestBodySchema, type LinkBodySchema } from '../http/account-schemas.js';
import { authRateLimit, mailAddressLimit } from '../http/rate-limit.js';
import { checkEmail } from '../services/accounts.js';
import type { User } from '../store/index.js';

/** Every answer takes at least this long. */
export const ANONYMOUS_MAIL_FLOOR_MS = 400;

/**
 * Runs `work` but answers after `floorMs` whatever it does: work that finishes sooner is awaited, work that takes
 * longer carries on in the background (its failure is logged), so the response time never depends on it.
 */
export async function withTimeFloor(
  app: FastifyInstance,
  floorMs: number,
  work: () => Promise<void>,
): Promise<void> {
  const done = work().catch((err: unknown) => app.log.error({ err }, 'background account mail failed'));
  await Promise.all([sleep(floorMs), Promise.race([done, sleep(floorMs)])]);
}

/** Registers one such endpoint; `send` runs only for an existing active account. */
export function mailRequestRoute(
  app: FastifyInstance,
  route: {
    path: string;
    summary: string;
    /** The one answer, account or not. */
    message: string;
    /** Refuses the request outright (e.g. the feature is off), before any lookup. */
    precheck?: () => void;
    send: (user: User, request: FastifyRequest) => Promise<void>;
  },
): void {
  const { store, config } = app.jot;
  const perAddress = mailAddressLimit(app, config);
  app.post<{ Body: MailLinkRequestBody }>(
    route.path,
    {
      config: { rateLimit: authRateLimit(config) },
      schema: {
        tags: ['accounts'],
        summary: route.summary,
        body: mailLinkRequestBodySchema,
        response: {
          202: { type: 'object', properties: { status: { type: 'string' }, message: { type: 'string' } } },
          400: { $ref: 'JotError#' },
          404: { $ref: 'JotError#' },
          429: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      route.precheck?.();
      // Refused alike whether or not an account exists: it says nothing about one.
      checkEmail(request.body.email);
      await perAddress(request, request.body.email);
      await withTimeFloor(app, ANONYMOUS_MAIL_FLOOR_MS, async () => {
        const user = await store.getUserByEmail(request.body.email);
        if (user !== undefined && user.status === 'active') await route.send(user, request);
      });
      return reply.code(202).send({ status: 'accepted', message: route.message });
    },
  );
}

/** Registers a "follow the link" endpoint: `body` is a `linkBody` schema (`token` and the route's other fields). */
export function linkConfirmRoute<Body extends { token: string }>(
  app: FastifyInstance,
  route: {
    path: string;
    summary: string;
    /**
     * The body's schema: one of http/account-schemas.ts (its `token` and the route's other fields; a `linkBody`
     * requires them all).
     */
    body: Pick<LinkBodySchema<unknown>, 'type' | 'additionalProperties'> & { properties: { token: unknown } };
    response: Record<number, unknown>;
    confirm: (request: FastifyRequest<{ Body: Body }>) => Promise<unknown>;
  },
): void {
  app.post<{ Body: Body }>(
    route.path,
    {
      config: { rateLimit: authRateLimit(app.jot.config) },
      schema: {
        tags: ['accounts'],
        summary: route.summary,
        body: route.body,
        response: route.response,
      },
    },
    async (request) => route.confirm(request),
  );
}
