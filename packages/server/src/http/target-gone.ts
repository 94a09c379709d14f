/**
 * Admin routes act on another account, named in the path. A write of theirs that references a row deleted meanwhile
 * (`ERR_STORE_REFERENCE`: the account was deleted while the request ran, by another admin or by its owner) is about
 * that account, not the caller's: 404 `ERR_NOT_FOUND`, as for an id that was never there — not the server-wide answer
 * to such a race, which is the caller's own sign-in overtaken (401 `ERR_CREDENTIALS_CHANGED`, http/error-handler.ts),
 * and which would send an admin client to sign in again for nothing.
 */
import type { FastifyInstance } from 'fastify';

import { StoreError } from '../store/index.js';
import { HttpError } from './errors.js';

/** The answer for a write about an account that was deleted while the request ran. */
export function targetGoneError(error: StoreError): HttpError {
  return new HttpError(
    404,
    'ERR_NOT_FOUND',
    'no such user: the account was deleted while this request was handled',
    { cause: error },
  );
}

/** Sets the scope's error handler: a missing referenced row is the target's absence; the rest as before. */
export function answerTargetGoneAsNotFound(app: FastifyInstance): void {
  const inherited = app.errorHandler;
  app.setErrorHandler((error, request, reply) =>
    inherited(
      error instanceof StoreError && error.code === 'ERR_STORE_REFERENCE' ? targetGoneError(error) : error,
      request,
      reply,
    ),
  );
}
