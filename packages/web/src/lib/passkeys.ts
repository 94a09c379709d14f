/**
 * The WebAuthn ceremonies in the browser, through `@simplewebauthn/browser`: the server's options in, the JSON the
 * server verifies out. A cancelled or timed-out browser prompt becomes a `Notice` (information, not a failure).
 */
import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';

import { Notice } from './dom.js';

/** Whether this browser can use passkeys at all. */
export const passkeysSupported = (): boolean => browserSupportsWebAuthn();

function cancelled(err: unknown): never {
  if (err instanceof Error && (err.name === 'NotAllowedError' || err.name === 'AbortError')) {
    throw new Notice('The passkey prompt was closed or timed out; nothing was changed.');
  }
  throw err;
}

/** Asks the authenticator for an assertion over the server's request options. */
export async function passkeyAssertion(options: Record<string, unknown>): Promise<Record<string, unknown>> {
  try {
    const response = await startAuthentication({
      optionsJSON: options as unknown as PublicKeyCredentialRequestOptionsJSON,
    });
    return response as unknown as Record<string, unknown>;
  } catch (err) {
    return cancelled(err);
  }
}

/** Asks the authenticator to create a passkey for the server's creation options. */
export async function passkeyRegistration(
  options: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  try {
    const response = await startRegistration({
      optionsJSON: options as unknown as PublicKeyCredentialCreationOptionsJSON,
    });
    return response as unknown as Record<string, unknown>;
  } catch (err) {
    return cancelled(err);
  }
}
