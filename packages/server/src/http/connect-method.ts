/**
 * CONNECT asks for a tunnel (RFC 9110 §9.3.6), which this server never opens. Node hands a CONNECT request to the
 * server's `connect` event rather than to Fastify, and without a listener destroys the socket with no answer at all;
 * here it gets 405 `ERR_METHOD_NOT_ALLOWED` in the common body, with `Allow` (the methods of the path when the
 * target is one, else none: an authority such as `example.com:443` is no resource of this server), and then the
 * connection closes — whatever the client sends after the request is never read as another request.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

import type { FastifyInstance } from 'fastify';

import { echoed } from '../services/echoed.js';
import { allowedMethods } from './allowed-methods.js';
import { answerOnSocket } from './error-handler.js';
import { HttpError } from './errors.js';

/** The refusal of a CONNECT to `target` (`request.url`: an authority, or a path). */
export function connectRefusal(app: FastifyInstance, target: string): HttpError {
  const path = target.startsWith('/') ? (target.split('?')[0] ?? '') : undefined;
  const allowed = path === undefined ? [] : allowedMethods(app.routeTable, path);
  return new HttpError(
    405,
    'ERR_METHOD_NOT_ALLOWED',
    `CONNECT is not allowed on ${echoed(target)}: this server opens no tunnels`,
    { headers: { allow: allowed.join(', ') } },
  );
}

/** Installs the answer on the app's HTTP server. */
export function installConnectMethod(app: FastifyInstance): void {
  app.server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    app.log.info({ code: 'ERR_METHOD_NOT_ALLOWED', status: 405 }, 'CONNECT refused');
    socket.on('error', () => socket.destroy());
    answerOnSocket(socket, 'Method Not Allowed', connectRefusal(app, request.url ?? ''));
    socket.end(() => socket.destroy());
  });
}
