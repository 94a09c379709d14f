/**
 * `@simplewebauthn/server` and its `/helpers`, loaded at the first passkey operation instead of with the server: they
 * bring the whole @peculiar ASN.1/X.509 stack, about a quarter of the server's import time, which only passkeys use.
 */
import type * as WebAuthnServer from '@simplewebauthn/server';
import type * as WebAuthnHelpers from '@simplewebauthn/server/helpers';

import { lazyImport, type LazyImport } from './lazy-import.js';

/** The registration and authentication ceremonies (`generate…Options`, `verify…Response`). */
export const webauthnServer: LazyImport<typeof WebAuthnServer> = lazyImport(
  () => import('@simplewebauthn/server'),
);

/** The decoders of the structure check (`isoBase64URL`, `isoCBOR`, `parseAuthenticatorData`). */
export const webauthnHelpers: LazyImport<typeof WebAuthnHelpers> = lazyImport(
  () => import('@simplewebauthn/server/helpers'),
);
