/**
 * DPoP proofs (RFC 9449 §4) made with WebCrypto: one per request, for its method and URL (query and fragment left
 * out), with `ath` when an access token goes along and the server's latest nonce; a `use_dpop_nonce` answer
 * (400 at the token endpoints, 401 at resources) is retried once with the nonce it carries (§8–9).
 */
import { asksForDPoPNonce, HEADERS } from '@jot/contract';

import { defaultKeyStore, type DPoPKeyStore } from './dpop-key-store.js';
import { base64url } from './base64url.js';

/** Sends requests with proofs. */
export interface DPoPSigner {
  /** A proof for `method` `url`, bound to `accessToken` when given. */
  proof(method: string, url: string, accessToken?: string): Promise<string>;
  /** Sends `request` with a fresh proof; retries once with a new nonce when the server asks for one. */
  send(
    request: Request,
    accessToken: string | undefined,
    fetch: (request: Request) => Promise<Response>,
  ): Promise<Response>;
  readonly keys: DPoPKeyStore;
}

const encoder = new TextEncoder();

function htu(url: string): string {
  const parsed = new URL(url);
  parsed.search = '';
  parsed.hash = '';
  return parsed.href;
}

/** Creates the signer over a key store (IndexedDB in browsers by default). */
export function createDPoPSigner(keys: DPoPKeyStore = defaultKeyStore()): DPoPSigner {
  /** The latest nonce per origin (RFC 9449 §8.2: any response may carry a new one). */
  const nonces = new Map<string, string>();
  /**
   * The encoded header (with the public JWK) per public key: after `keys.clear()` a new pair signs, and its proofs
   * must carry its own key — a header cached once per signer would name the old one and no proof would verify.
   */
  const headers = new WeakMap<CryptoKey, Promise<string>>();

  async function encodedHeader(publicKey: CryptoKey): Promise<string> {
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
    return base64url(
      encoder.encode(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } })),
    );
  }

  async function proof(method: string, url: string, accessToken?: string): Promise<string> {
    const pair = await keys.keyPair();
    let header = headers.get(pair.publicKey);
    if (header === undefined) {
      header = encodedHeader(pair.publicKey);
      headers.set(pair.publicKey, header);
      header.catch(() => headers.delete(pair.publicKey));
    }
    const claims: Record<string, unknown> = {
      jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
      htm: method.toUpperCase(),
      htu: htu(url),
      iat: Math.floor(Date.now() / 1000),
    };
    if (accessToken !== undefined) {
      claims.ath = base64url(await crypto.subtle.digest('SHA-256', encoder.encode(accessToken)));
    }
    const nonce = nonces.get(new URL(url).origin);
    if (nonce !== undefined) claims.nonce = nonce;
    const input = `${await header}.${base64url(encoder.encode(JSON.stringify(claims)))}`;
    // WebCrypto's ECDSA signature is r‖s, exactly JWS's ES256 format (RFC 7518 §3.4).
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      pair.privateKey,
      encoder.encode(input),
    );
    return `${input}.${base64url(signature)}`;
  }

  return {
    keys,
    proof,
    async send(request, accessToken, fetch) {
      const origin = new URL(request.url).origin;
      const attempt = async (): Promise<Response> => {
        const copy = request.clone();
        copy.headers.set(HEADERS.dpop, await proof(copy.method, copy.url, accessToken));
        const response = await fetch(copy);
        const nonce = response.headers.get(HEADERS.dpopNonce);
        if (nonce !== null) nonces.set(origin, nonce);
        return response;
      };
      const first = await attempt();
      if (!(await asksForDPoPNonce(first))) return first;
      return attempt();
    },
  };
}
