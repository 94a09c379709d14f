/**
 * The one error handler's last resort: an unexpected failure is a 500 `ERR_INTERNAL` in the common shape, with its
 * details in the log only — never in the response.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

import { installErrorHandlers } from '../src/http/error-handler.js';

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
