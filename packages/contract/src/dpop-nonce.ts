/**
 * How a server asks a DPoP client for a (new) nonce (RFC 9449 §8 at the token endpoint, §9 at a resource server):
 * a 400 or 401 with a `DPoP-Nonce` header and the `use_dpop_nonce` error, in the `WWW-Authenticate` challenge or
 * in the JSON body. `@jot/client` and `@jot/service` retry such an answer once with the nonce it carries.
 */
import { HEADERS } from './http-names.js';

/** Whether `response` asks for a DPoP nonce (reads a clone of the body, so the caller can still read it). */
export async function asksForDPoPNonce(response: Response): Promise<boolean> {
  if (response.status !== 400 && response.status !== 401) return false;
  if (response.headers.get(HEADERS.dpopNonce) === null) return false;
  if (/error="use_dpop_nonce"/.test(response.headers.get('www-authenticate') ?? '')) return true;
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { error?: unknown } | undefined;
  return body?.error === 'use_dpop_nonce';
}
