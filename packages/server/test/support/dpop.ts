/** Test helper: requests to a test server with a DPoP proof made by a Node key (`@jot/jose`'s createDPoPProof). */
import { createDPoPProof, generateKeyPair, type DPoPProofInput, type Key } from '@jot/jose';

import type { TestResponse, TestServer } from './jot-server.js';

/** What to put in, or change about, one proof. */
export interface ProofOptions extends Partial<DPoPProofInput> {
  /** Send no DPoP header. */
  omit?: boolean;
  /** Send this header value instead of a fresh proof. */
  raw?: string;
}

/** A DPoP-holding client of one test server. */
export interface DPoPClient {
  key: Key;
  /** The last proof sent. */
  lastProof: string | undefined;
  proof(method: string, path: string, options?: ProofOptions): string;
  request(
    method: string,
    path: string,
    options?: {
      token?: string;
      scheme?: string;
      body?: unknown;
      proof?: ProofOptions;
      headers?: Record<string, string>;
    },
  ): Promise<TestResponse>;
}

/** A client with a fresh ES256 key (or `key`). */
export function dpopClient(server: TestServer, key: Key = generateKeyPair('ES256')): DPoPClient {
  const client: DPoPClient = {
    key,
    lastProof: undefined,
    proof(method, path, options = {}) {
      return createDPoPProof(key, { htm: method, htu: server.url + path, ...options });
    },
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== undefined) headers.authorization = `${options.scheme ?? 'DPoP'} ${options.token}`;
      const proofOptions = options.proof ?? {};
      if (!proofOptions.omit) {
        const proof =
          proofOptions.raw ?? client.proof(method, path, { accessToken: options.token, ...proofOptions });
        client.lastProof = proof;
        headers.dpop = proof;
      }
      return server.request(method, path, { body: options.body, headers });
    },
  };
  return client;
}
