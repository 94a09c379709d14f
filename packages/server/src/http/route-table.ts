/**
 * Every route the app registers, as `{ method, url, schema }` — hidden ones included — collected with an
 * `onRoute` hook. Fastify has no public list of its routes; tests that must cover every route (the input fuzz
 * test) read this one, so a new route is covered the moment it is registered.
 */
import type { FastifyInstance, FastifySchema } from 'fastify';

/** One method of one route. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly schema: FastifySchema | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered so far (HEAD and OPTIONS left out). */
    readonly routeTable: readonly RouteEntry[];
  }
}

/** Starts collecting; call before any route is registered. */
export function collectRoutes(app: FastifyInstance): void {
  const routes: RouteEntry[] = [];
  app.decorate('routeTable', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routes.push({ method, url: route.url, schema: route.schema });
    }
  });
}
