/** The MFA services the routes share (`app.jot.mfa`): factors, passkeys, MFA tokens and the two-step sign-in. */
import type { Config } from '../config/index.js';
import type { Clock } from '../clock.js';
import type { KeyManager } from '../keys/types.js';
import type { Store } from '../store/index.js';
import { createMfaService, type MfaService } from './mfa.js';
import { createMfaSecrets } from './mfa-secrets.js';
import { createMfaSignIn, type MfaSignIn } from './mfa-signin.js';
import { createMfaTokens } from './mfa-token.js';
import { createPasskeyService, type PasskeyLog, type PasskeyService } from './passkeys.js';
import type { SecurityEvents } from './security-events.js';

/** The MFA services. */
export interface MfaServices {
  factors: MfaService;
  passkeys: PasskeyService;
  signIn: MfaSignIn;
}

/** Builds the MFA services over the store, the signing keys and the KEK. */
export function createMfaServices(deps: {
  store: Store;
  keys: KeyManager;
  config: Config;
  clock: Clock;
  events: SecurityEvents;
  /** Takes the WebAuthn library's reasons for refused passkey responses (debug level). */
  log?: PasskeyLog;
}): MfaServices {
  const { store, keys, config, clock, events } = deps;
  const passkeys = createPasskeyService({ store, config, clock, log: deps.log });
  const factors = createMfaService({
    store,
    secrets: createMfaSecrets(config.kek),
    passkeys,
    clock,
    issuer: config.issuer,
  });
  const tokens = createMfaTokens({
    keys,
    store,
    clock,
    issuer: config.issuer,
    ttlMs: config.mfaTokenTtlMs,
    clockToleranceSeconds: Math.floor(config.clockToleranceMs / 1000),
  });
  return {
    factors,
    passkeys,
    signIn: createMfaSignIn({ store, mfa: factors, tokens, events, config, clock }),
  };
}
