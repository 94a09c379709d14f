/**
 * `GET /openapi.json`: an OpenAPI 3.1 document built from the JSON schemas every route already declares. Routes
 * are collected with an `onRoute` hook — so this plugin opts out of encapsulation and must be registered before
 * the feature plugins — and the document is built on its first request, when every route is known. Route schemas
 * may carry `summary`, `description`, `tags`, `operationId`, `security`, `deprecated`, and `hide: true` to omit; a
 * `formBody` documents an `application/x-www-form-urlencoded` body the route reads itself (alongside `body`'s JSON
 * when both are given); a `body` with Fastify's `content` map (a schema per media type) is documented per media type.
 */
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';

import type { FastifyInstance, FastifyPluginAsync } from 'fastify';

import { errorSchema } from '../http/schemas.js';

declare module 'fastify' {
  /** More OpenAPI fields on route schemas (context.ts declares `tags`, `summary`, `description`). */
  interface FastifySchema {
    operationId?: string;
    /** OpenAPI security requirements, e.g. `[{ bearerAuth: [] }]`. */
    security?: readonly Record<string, readonly string[]>[];
    deprecated?: boolean;
    /** Leave the route out of the document. */
    hide?: boolean;
  }
}

/** Options of {@link openapiPlugin}. */
export interface OpenApiPluginOptions {
  /** @default 'Jot' */
  title?: string;
  /** @default the `version` of @jot/server's package.json */
  version?: string;
}

type JsonObject = Record<string, unknown>;

interface CollectedRoute {
  method: string;
  url: string;
  schema: JsonObject;
}

const OPERATION_KEYS = ['summary', 'description', 'tags', 'operationId', 'security', 'deprecated'] as const;
const PARAMETER_SOURCES = [
  ['params', 'path'],
  ['querystring', 'query'],
  ['headers', 'header'],
] as const;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function componentName(id: string): string {
  return id.replace(/#.*$/, '').replace(/[^A-Za-z0-9._-]/g, '_');
}

/** A deep copy with Fastify's shared-schema references (`JotError#`) pointed at `#/components/schemas/…`. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, member] of Object.entries(value)) {
    if (key === '$id') continue;
    if (key === '$ref' && typeof member === 'string' && !member.startsWith('#')) {
      const [id = '', pointer = ''] = member.split('#');
      out.$ref = `#/components/schemas/${componentName(id)}${pointer}`;
    } else {
      out[key] = rewriteRefs(member);
    }
  }
  return out;
}

/** `/api/sessions/:id` → `/api/sessions/{id}` (a `(regex)` constraint is dropped). */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}').replace(/\*$/, '{wildcard}');
}

function parameters(schema: JsonObject): JsonObject[] {
  const list: JsonObject[] = [];
  for (const [source, location] of PARAMETER_SOURCES) {
    const part = schema[source];
    if (!isObject(part) || !isObject(part.properties)) continue;
    const required = new Set(Array.isArray(part.required) ? part.required : []);
    for (const [name, property] of Object.entries(part.properties)) {
      list.push({
        name,
        in: location,
        required: location === 'path' || required.has(name),
        schema: rewriteRefs(property),
      });
    }
  }
  return list;
}

function responses(schema: JsonObject): JsonObject {
  const out: JsonObject = {};
  const declared = isObject(schema.response) ? schema.response : {};
  for (const [status, body] of Object.entries(declared)) {
    const code = /^\dxx$/i.test(status) ? status.toUpperCase() : status;
    const description =
      isObject(body) && typeof body.description === 'string'
        ? body.description
        : (STATUS_CODES[code] ?? 'Response');
    const mediaType = isObject(body) && body.type === 'string' ? 'text/plain' : 'application/json';
    out[code] = { description, content: { [mediaType]: { schema: rewriteRefs(body) } } };
  }
  out.default ??= {
    description: 'Error (the common error shape)',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/JotError' } } },
  };
  return out;
}

/**
 * The request bodies a route takes, by media type: `body` (JSON), or `body.content` (Fastify's schema per media type,
 * each validated: `/api/introspect` takes a strict JSON body and the form RFC 7662 clients send), and `formBody`
 * (a form the route reads itself: the OAuth endpoints). Required when any of them requires a field.
 */
function requestBodies(schema: JsonObject): { content: JsonObject; required: boolean } {
  const bodies: [string, unknown][] = [];
  const { body, formBody } = schema;
  if (isObject(body) && isObject(body.content)) {
    for (const [mediaType, entry] of Object.entries(body.content))
      if (isObject(entry)) bodies.push([mediaType, entry.schema]);
  } else if (body !== undefined) bodies.push(['application/json', body]);
  if (isObject(formBody)) bodies.push(['application/x-www-form-urlencoded', formBody]);
  const content: JsonObject = {};
  let required = false;
  for (const [mediaType, bodySchema] of bodies) {
    required ||= isObject(bodySchema) && Array.isArray(bodySchema.required) && bodySchema.required.length > 0;
    content[mediaType] = { schema: rewriteRefs(bodySchema) };
  }
  return { content, required };
}

function operation(route: CollectedRoute): JsonObject {
  const { schema } = route;
  const op: JsonObject = {};
  for (const key of OPERATION_KEYS) if (schema[key] !== undefined) op[key] = schema[key];
  const params = parameters(schema);
  if (params.length > 0) op.parameters = params;
  const { content, required } = requestBodies(schema);
  if (Object.keys(content).length > 0) op.requestBody = { required, content };
  op.responses = responses(schema);
  return op;
}

function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return isObject(pkg) && typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

async function openapi(app: FastifyInstance, options: OpenApiPluginOptions): Promise<void> {
  const routes: CollectedRoute[] = [];
  let document: JsonObject | undefined;

  app.addHook('onRoute', (route) => {
    const schema = (route.schema ?? {}) as JsonObject;
    if (schema.hide === true) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routes.push({ method: method.toLowerCase(), url: route.url, schema });
    }
  });

  function build(): JsonObject {
    const paths: Record<string, JsonObject> = {};
    for (const route of routes) (paths[openApiPath(route.url)] ??= {})[route.method] = operation(route);
    const schemas: JsonObject = { JotError: rewriteRefs(errorSchema) };
    for (const [id, schema] of Object.entries(app.getSchemas()))
      schemas[componentName(id)] = rewriteRefs(schema);
    return {
      openapi: '3.1.0',
      info: { title: options.title ?? 'Jot', version: options.version ?? packageVersion() },
      servers: [{ url: app.jot.config.issuer }],
      paths,
      components: {
        schemas,
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    };
  }

  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['discovery'],
        summary: 'This OpenAPI 3.1 document.',
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async () => (document ??= build()),
  );
}

/** Registers `/openapi.json` and the route collector on the whole app. Register it before the feature plugins. */
export const openapiPlugin: FastifyPluginAsync<OpenApiPluginOptions> = Object.defineProperty(
  openapi,
  Symbol.for('skip-override'),
  { value: true },
);
