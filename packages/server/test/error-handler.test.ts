/**
 * The one error handler: a service's domain error becomes its status, error name and challenge here and nowhere
 * else; an unexpected failure is a 500 `ERR_INTERNAL` in the common shape, with its details in the log only.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

import { installErrorHandlers, toHttpError } from '../src/http/error-handler.js';
import { DomainError } from '../src/services/errors.js';
import { StoreError } from '../src/store/index.js';

describe('the error handler', () => {
  it('answers an unexpected error with 500 ERR_INTERNAL and logs the details instead of sending them', async () => {
    const logged: string[] = [];
    const app = Fastify({
      logger: { level: 'error', stream: { write: (line: string) => void logged.push(line) } },
    });
    installErrorHandlers(app);
    app.get('/boom', () => {
      throw new Error('connection string postgres://secret@db');
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/boom' });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({
        error: 'server_error',
        error_description: 'an internal error occurred; it has been logged',
        code: 'ERR_INTERNAL',
      });
      expect(res.body).not.toContain('secret');
      expect(logged.join('')).toContain('postgres://secret@db');
    } finally {
      await app.close();
    }
  });
});

describe('domain errors', () => {
  const cases: [DomainError, number, string, Record<string, string>][] = [
    [new DomainError('invalid', 'ERR_WEAK_PASSWORD', 'too short'), 400, 'invalid_request', {}],
    [new DomainError('invalid', 'ERR_SCOPE_WIDENED', 'wider'), 400, 'invalid_scope', {}],
    [new DomainError('invalid', 'ERR_CLIENT_INVALID', 'bad'), 400, 'invalid_client_metadata', {}],
    [
      new DomainError('token', 'ERR_TOKEN_REVOKED', 'revoked'),
      401,
      'invalid_token',
      { 'www-authenticate': 'Bearer realm="jot", error="invalid_token", error_description="revoked"' },
    ],
    [new DomainError('grant', 'ERR_REFRESH_TOKEN_INVALID', 'no'), 401, 'invalid_grant', {}],
    [
      new DomainError('client', 'ERR_CLIENT_AUTH_FAILED', 'who?'),
      401,
      'invalid_client',
      { 'www-authenticate': 'Basic realm="jot", charset="UTF-8"' },
    ],
    [new DomainError('forbidden', 'ERR_CSRF', 'no header'), 403, 'forbidden', {}],
    [new DomainError('not_found', 'ERR_NOT_FOUND', 'gone'), 404, 'not_found', {}],
    [new DomainError('conflict', 'ERR_EMAIL_TAKEN', 'taken'), 409, 'invalid_request', {}],
    [
      new DomainError('throttled', 'ERR_LOGIN_LOCKED', 'wait', { retryAfterSeconds: 7 }),
      429,
      'rate_limited',
      { 'retry-after': '7' },
    ],
  ];

  it.each(cases)(
    'maps %o to its status, error name and challenge in one place',
    (error, status, name, headers) => {
      const http = toHttpError(error);
      expect(http.statusCode).toBe(status);
      expect(http.toBody()).toEqual({ error: name, error_description: error.message, code: error.code });
      expect(http.headers).toEqual(headers);
    },
  );

  it('answers a row written for a deleted account (ERR_STORE_REFERENCE) as 401 ERR_CREDENTIALS_CHANGED, not 500', () => {
    const http = toHttpError(new StoreError('ERR_STORE_REFERENCE', 'the referenced row does not exist'));
    expect(http.statusCode).toBe(401);
    expect(http.toBody()).toMatchObject({ error: 'invalid_grant', code: 'ERR_CREDENTIALS_CHANGED' });
    expect(http.toBody().error_description).toMatch(/sign in again/);
  });

  it('answers a domain error thrown by a route in the common shape', async () => {
    const app = Fastify();
    installErrorHandlers(app);
    app.get('/locked', () => {
      throw new DomainError('throttled', 'ERR_LOGIN_LOCKED', 'try again in 3 s', { retryAfterSeconds: 3 });
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/locked' });
      expect(res.statusCode).toBe(429);
      expect(res.headers['retry-after']).toBe('3');
      expect(res.json()).toEqual({
        error: 'rate_limited',
        error_description: 'try again in 3 s',
        code: 'ERR_LOGIN_LOCKED',
      });
    } finally {
      await app.close();
    }
  });
});
