/**
 * Every route the app registers, as `{ method, url, schema }` — hidden ones included — collected with an
 * `onRoute` hook. Fastify has no public list of its routes; tests that must cover every route (the input fuzz
 * test) read this one, so a new route is covered the moment it is registered, and the 405 answer
 * (http/allowed-methods.ts) reads the methods of a path from it.
 */
import type { FastifyInstance, FastifySchema } from 'fastify';

/** One method of one route. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly schema: FastifySchema | undefined;
  /** For a wildcard route: which of the paths it matches it serves (`config.serves`); all when absent. */
  readonly serves: ((path: string) => boolean) | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered so far (HEAD and OPTIONS left out, and the routes that only refuse a method). */
    readonly routeTable: readonly RouteEntry[];
  }
  interface FastifyContextConfig {
    /** A wildcard route's own say on which paths it serves: the others are no route of its method. */
    serves?: (path: string) => boolean;
    /** The route only answers 405 for methods a path does not take (http/allowed-methods.ts): not in the table. */
    refusesMethod?: boolean;
  }
}

/** Starts collecting; call before any route is registered. */
export function collectRoutes(app: FastifyInstance): void {
  const routes: RouteEntry[] = [];
  app.decorate('routeTable', routes);
  app.addHook('onRoute', (route) => {
    const config = route.config;
    if (config?.refusesMethod === true) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routes.push({ method, url: route.url, schema: route.schema, serves: config?.serves });
    }
  });
}
