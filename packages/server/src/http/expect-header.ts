/**
 * `Expect` (RFC 9110 §10.1.1) defines one expectation, `100-continue`; a request expecting anything else is refused
 * with 417 `ERR_EXPECTATION_FAILED` in the common body — never acted on as if the expectation were met. Node answers
 * such a request itself with an empty 417 unless the server listens for `checkExpectation`: the listener hands the
 * request to Fastify, whose hook below answers it (with the OAuth endpoints' shape at `/oauth/*`). `100-continue`
 * (any letter case) is Node's to answer with `100 Continue`.
 */
import type { FastifyInstance } from 'fastify';

import { echoed } from '../services/echoed.js';
import { HttpError } from './errors.js';

const CONTINUE = /^\s*100-continue\s*$/i;

/** Installs the check on every request. */
export function installExpectHeader(app: FastifyInstance): void {
  app.server.on('checkExpectation', (request, response) => app.routing(request, response));
  app.addHook('onRequest', async (request) => {
    const expect = request.headers.expect;
    if (expect === undefined || CONTINUE.test(expect)) return;
    throw new HttpError(
      417,
      'ERR_EXPECTATION_FAILED',
      `the expectation "${echoed(expect)}" cannot be met: send no Expect header, or Expect: 100-continue ` +
        '(RFC 9110 section 10.1.1)',
    );
  });
}
