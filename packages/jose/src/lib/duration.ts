/**
 * Durations are parsed by `@jot/contract`'s one parser, shared with `@jot/client`, `@jot/service`, `@jot/verify` and
 * the server; `@jot/jose` re-exports it unchanged.
 */
export { parseDuration, parseDurationMs, type Duration } from '@jot/contract';
