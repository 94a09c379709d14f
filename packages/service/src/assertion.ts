/**
 * RFC 7523 §2.2 client assertions: `iss` = `sub` = the client_id, `aud` = the issuer (RFC 7523bis narrows it to
 * exactly that), a fresh random `jti`, and a one-minute lifetime — short, since each is used once.
 */
import { randomBytes } from 'node:crypto';

import { createSigner, type Key } from '@jot/jose';

/** Makes assertions for one client and key. */
export type AssertionMaker = (now: number) => string;

/** Builds the maker; the key must be a private key bound to its algorithm (or an HMAC secret for client_secret_jwt). */
export function assertionMaker(key: Key, clientId: string, audience: string): AssertionMaker {
  const sign = createSigner(key, { typ: 'JWT' });
  return (now) => {
    const iat = Math.floor(now / 1000);
    return sign(
      {
        iss: clientId,
        sub: clientId,
        aud: audience,
        jti: randomBytes(16).toString('base64url'),
        exp: iat + 60,
      },
      { currentDate: new Date(iat * 1000) },
    );
  };
}
