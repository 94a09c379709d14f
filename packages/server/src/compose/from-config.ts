/**
 * The services whose settings come straight from the configuration, built the same way by the server (`app.ts`)
 * and the CLI's operations (`admin-ops.ts`): the configuration's names and units are translated here, once.
 */
import type { Counter } from 'prom-client';

import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import { createKek } from '../keys/kek.js';
import type { KeyManager } from '../keys/types.js';
import { createClientService, type ClientService } from '../services/clients.js';
import { createOneTimeTokens, type OneTimeTokens } from '../services/one-time-tokens.js';
import { createRevocationService, type RevocationService } from '../services/revocation.js';
import { createTokenService, type TokenService } from '../services/tokens.js';
import type { Store } from '../store/index.js';

/** The revocation service with the configured access-token lifetime and clock tolerance. */
export function revocationsFromConfig(
  config: Config,
  store: Store,
  clock: Clock,
  counter?: Parameters<typeof createRevocationService>[3],
): RevocationService {
  return createRevocationService(
    store,
    clock,
    { accessTokenTtlMs: config.accessTokenTtlMs, clockToleranceMs: config.clockToleranceMs },
    counter,
  );
}

/** The access-token service with the configured issuer, audience, lifetimes and encryption keys. */
export function tokensFromConfig(
  config: Config,
  keys: KeyManager,
  clock: Clock,
  issued?: Pick<Counter, 'inc'>,
): TokenService {
  return createTokenService(
    keys,
    {
      issuer: config.issuer,
      audience: config.audience,
      accessTokenTtlSeconds: Math.floor(config.accessTokenTtlMs / 1000),
      clockToleranceSeconds: Math.floor(config.clockToleranceMs / 1000),
      encryptionKeys: config.encryptionKeys,
    },
    clock,
    issued,
  );
}

/** One-time link tokens sealed with the configured KEK. */
export function oneTimeTokensFromConfig(config: Config, store: Store, clock: Clock): OneTimeTokens {
  return createOneTimeTokens({
    kek: config.kek,
    issuer: config.issuer,
    store,
    clock,
    clockToleranceSeconds: Math.floor(config.clockToleranceMs / 1000),
  });
}

/** The OAuth client registry, its secrets sealed with the configured KEK. */
export function clientsFromConfig(
  config: Config,
  store: Store,
  revocations: RevocationService,
  clock: Clock,
): ClientService {
  return createClientService({
    store,
    kek: createKek(config.kek),
    revocations,
    clock,
    production: config.nodeEnv === 'production',
    defaultTokenTtlMs: config.accessTokenTtlMs,
  });
}
