/**
 * Request validation: JSON bodies are taken as sent — `"name": 42` is a 400, never stored as `"42"` — while the
 * querystring, path parameters and headers, which are text on the wire, are coerced to the types their schemas
 * declare (`?limit=10` is the integer 10).
 */
import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

/** Ajv options shared by both compilers: report the first error only, keep unknown properties (schemas refuse them). */
const AJV_OPTIONS = { removeAdditional: false, allErrors: false } as const;

type SchemaController = NonNullable<FastifyServerOptions['schemaController']>;

/**
 * One pool of Ajv instances per process, not one per app: an app built again in the same process (a restart in
 * place, the tests' many servers) gets the same instance for the same shared schemas and options, and Ajv reuses
 * what it compiled for a schema object it has seen, so the routes' schemas are compiled once rather than per app
 * (about 200 ms of CPU per app on a 2-core machine). Schemas that differ are different objects: compiled anew.
 */
const strictPool = AjvCompiler();
const coercingPool = AjvCompiler();

/** Fastify's `schemaController` option: a non-coercing validator for bodies, a coercing one for the rest. */
export const schemaController: SchemaController = {
  compilersFactory: {
    buildValidator(externalSchemas) {
      const strict = strictPool(externalSchemas, {
        customOptions: { ...AJV_OPTIONS, coerceTypes: false },
      });
      const coercing = coercingPool(externalSchemas, {
        customOptions: { ...AJV_OPTIONS, coerceTypes: 'array' },
      });
      return (route) => (route.httpPart === 'body' ? strict(route) : coercing(route));
    },
  },
};
