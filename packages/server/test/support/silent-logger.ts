/** Test helper: a Fastify logger that drops everything, for services built outside an app. */
import type { FastifyBaseLogger } from 'fastify';

/** Drops every line; `child` is itself. */
export const silentLogger: FastifyBaseLogger = {
  level: 'silent',
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  trace: () => undefined,
  fatal: () => undefined,
  silent: () => undefined,
  child: () => silentLogger,
};
