/**
 * The client's two ways to reach the Jot server: `send` (sign-in, refresh: no access token; a DPoP proof binds or
 * proves the session's key) and `sendAuthenticated` (the access token in `Authorization`, with its proof, or the
 * access cookie). A network failure is a `JotClientError` `ERR_CLIENT_NETWORK` from either.
 */
import type { DPoPSigner } from './dpop.js';
import { JotClientError } from './errors.js';
import type { Transport } from './transport.js';
import type { DeliveryMode } from './types.js';

/** What the senders need. */
export interface SenderSettings {
  mode: DeliveryMode;
  transport: Transport;
  credentials: RequestCredentials;
  dpop: DPoPSigner | undefined;
}

/** The two senders. */
export interface Senders {
  send(path: string, init: RequestInit): Promise<Response>;
  /** A request with the access token (memory, bearer; with its DPoP proof) or the access cookie. */
  sendAuthenticated(path: string, init: RequestInit, accessToken: string | undefined): Promise<Response>;
}

function networkError(cause: unknown): JotClientError {
  return new JotClientError('ERR_CLIENT_NETWORK', 'the server could not be reached', { cause });
}

/** Builds the senders over the client's transport. */
export function createSenders({ mode, transport, credentials, dpop }: SenderSettings): Senders {
  return {
    async send(path, init) {
      try {
        const url = transport.resolve(path).href;
        if (dpop === undefined) return await transport.fetch(url, { credentials, ...init });
        // Sign-in, refresh: the proof binds (or proves) the session's key; no access token goes along.
        return await dpop.send(new Request(url, { credentials, ...init }), undefined, (r) =>
          transport.fetch(r),
        );
      } catch (cause) {
        throw networkError(cause);
      }
    },
    async sendAuthenticated(path, init, accessToken) {
      try {
        const request = new Request(transport.resolve(path).href, { credentials, ...init });
        if (mode !== 'cookie' && accessToken !== undefined)
          request.headers.set('authorization', `${dpop === undefined ? 'Bearer' : 'DPoP'} ${accessToken}`);
        if (dpop === undefined) return await transport.fetch(request);
        return await dpop.send(request, accessToken, (r) => transport.fetch(r));
      } catch (cause) {
        throw networkError(cause);
      }
    },
  };
}
