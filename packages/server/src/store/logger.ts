/** The little the store logs, shaped so that a pino/Fastify logger fits as is. */

/** A logger the store can report to (migrations applied, pool errors). */
export interface StoreLogger {
  info(message: string): void;
  warn(message: string): void;
}
