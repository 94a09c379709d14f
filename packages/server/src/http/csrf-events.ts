/**
 * `csrf_rejected` security events. Every `ERR_CSRF` answer carries, as its (never serialised) `cause`, whom the
 * refused request claimed to be; an `onError` hook records it, at most once per session (or address) and minute on
 * this instance, since a hostile page can make a victim's browser send such requests in bulk (past the keys one
 * minute remembers, one event with `suppressed: true`: http/event-throttle.ts).
 */
import type { FastifyInstance } from 'fastify';

import { isVerifyError, type VerifyError } from '@jot/verify';

import { csrfRefusal, type CsrfSubject } from '../services/csrf.js';
import { addressKey } from './address-key.js';
import { fromVerifyError, HttpError } from './errors.js';
import { eventThrottle } from './event-throttle.js';

/** The 403 `ERR_CSRF` answer of a route (see `csrfRefusal`), carrying `subject` for the event. */
export function csrfRejected(refusal: string | VerifyError, subject: CsrfSubject): HttpError {
  const error = csrfRefusal(refusal, subject);
  return fromVerifyError(error, { cause: error.cause });
}

const WINDOW_MS = 60_000;

/** Registers the hook on `app` (call on the root instance). */
export function recordCsrfRejections(app: FastifyInstance): void {
  const throttle = eventThrottle(WINDOW_MS);
  app.addHook('onError', async (request, _reply, error) => {
    if (!(error instanceof HttpError || isVerifyError(error)) || error.code !== 'ERR_CSRF') return;
    const subject = (error.cause as { csrf?: CsrfSubject } | undefined)?.csrf ?? {};
    const decision = throttle(subject.sessionId ?? `ip:${addressKey(request.ip)}`, Date.now());
    if (decision === 'skip') return;
    await app.jot.events
      .record('csrf_rejected', {
        userId: subject.userId,
        sessionId: subject.sessionId,
        ip: request.ip,
        detail: {
          route: request.routeOptions.url ?? null,
          method: request.method,
          ...(decision === 'overflow' && { suppressed: true }),
        },
      })
      .catch((err: unknown) => request.log.warn({ err }, 'recording a security event failed'));
  });
}
