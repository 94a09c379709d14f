/** Route options of the admin list routes (users, security events): admins only, and a page size the server bounds. */
import type { RouteShorthandOptions } from 'fastify';

import { requireRole } from '../auth.js';

/** A page holds at most 500 rows, so one request cannot ask the store for everything at once. */
const limitSchema = { type: 'integer', minimum: 1, maximum: 500 } as const;

/**
 * Options of an admin `GET` list: `query` are its own query fields (its cursor and filters), after `limit`;
 * `response` its answers, when documented.
 */
export function adminListRoute(
  summary: string,
  query: Record<string, object>,
  response?: Record<number, object>,
): RouteShorthandOptions {
  return {
    preHandler: requireRole('admin'),
    schema: {
      tags: ['admin'],
      summary,
      querystring: { type: 'object', properties: { limit: limitSchema, ...query } },
      ...(response === undefined ? {} : { response }),
    },
  };
}
