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

/** Reads the DPoP and encryption settings; key files are resolved against `cwd`. */
export function readDPoPSettings({ read, get, duration }: SettingsReader, cwd: string): DPoPSettings {
  return {
    dpop: get('dpop', (v) => p.oneOf(v, ['optional', 'required'])),
    dpopNonce: get('dpopNonce', p.boolean),
    dpopProofMaxAgeMs: duration('dpopProofMaxAge', 1000),
    dpopAlgorithms: get('dpopAlgorithms', dpopAlgorithms),
    externalUrl: read('externalUrl', (v) => p.httpUrl(v).replace(/\/+$/, '')),
    encryptionKeys: read('encryptionKeys', (v) => encryptionKeys(v, cwd)) ?? {},
  };
}
