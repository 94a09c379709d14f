/** Sender-constrained and encrypted tokens: DPoP (RFC 9449) and the audiences whose tokens are encrypted. */
import { dpopAlgorithms, encryptionKeys } from './dpop-jwe.js';
import * as p from './parsers.js';
import type { SettingsReader } from './reader.js';
import type { Config } from './types.js';

/** The DPoP and token-encryption settings. */
export type DPoPSettings = Pick<
  Config,
  'dpop' | 'dpopNonce' | 'dpopProofMaxAgeMs' | 'dpopAlgorithms' | 'externalUrl' | 'encryptionKeys'
>;

/**
 * `JOT_EXTERNAL_URL`, without trailing slashes. Its path (the prefix a proxy strips) also scopes the refresh cookie
 * (http/cookies.ts), whose `Path` cannot hold a `;`.
 */
function externalUrl(value: unknown): string {
  const url = p.httpUrl(value).replace(/\/+$/, '');
  if (new URL(url).pathname.includes(';')) {
    throw new p.Invalid('expected a path without ";" (the path also scopes the refresh cookie)');
  }
  return url;
}

/** Reads the DPoP and encryption settings; key files are resolved against `cwd`. */
export function readDPoPSettings({ read, get, duration }: SettingsReader, cwd: string): DPoPSettings {
  return {
    dpop: get('dpop', (v) => p.oneOf(v, ['optional', 'required'])),
    dpopNonce: get('dpopNonce', p.boolean),
    dpopProofMaxAgeMs: duration('dpopProofMaxAge', 1000),
    dpopAlgorithms: get('dpopAlgorithms', dpopAlgorithms),
    externalUrl: read('externalUrl', externalUrl),
    encryptionKeys: read('encryptionKeys', (v) => encryptionKeys(v, cwd)) ?? {},
  };
}
