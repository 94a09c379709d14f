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

/** Fastify's `schemaController` option: a non-coercing validator for bodies, a coercing one for the rest. */
export const schemaController: SchemaController = {
  compilersFactory: {
    buildValidator(externalSchemas) {
      const strict = AjvCompiler()(externalSchemas, {
        customOptions: { ...AJV_OPTIONS, coerceTypes: false },
      });
      const coercing = AjvCompiler()(externalSchemas, {
        customOptions: { ...AJV_OPTIONS, coerceTypes: 'array' },
      });
      return (route) => (route.httpPart === 'body' ? strict(route) : coercing(route));
    },
  },
};
