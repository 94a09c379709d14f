/**
 * Encrypted access tokens (nested JWT: signed, then encrypted; RFC 7519 §11.2) for audiences that registered a key
 * in `JOT_ENCRYPTION_KEYS`. A token is encrypted when every one of its audiences registered the same key; the JWE
 * header carries `typ: at+jwt` and `cty: JWT`. The server opens encrypted tokens with the private keys it holds
 * (its own audiences); the checks before decryption are `@jot/jose`'s.
 */
import {
  checkCompactJWE,
  decryptJWT,
  encryptJWT,
  importEncryptionKey,
  JoseError,
  type EncryptionKey,
  type JWK,
} from '@jot/jose';

/** Something issued: its token and audience. */
interface Issued {
  token: string;
  claims: { aud: string | string[] };
}

/** Seals and opens access tokens. */
export interface TokenSealer {
  /** The token encrypted to its audience's key (`encrypted: true`), or `issued` itself when none is registered. */
  seal<T extends Issued>(issued: T): Promise<T & { encrypted?: boolean }>;
  open(token: string): Promise<string>;
  /**
   * True when `token` is recognisably a JWE this server sealed for an audience whose key it holds only as public:
   * it passes every check `@jot/jose` makes before decrypting (`checkCompactJWE`: size, five canonical parts, that
   * key's `alg`, `A256GCM`, `cty: JWT`, no `zip`/`crit`, segment lengths, `epk` on the curve) against the
   * public-only keys, and its `kid` names one of them. The server cannot open it, so cannot learn its `jti`;
   * revocation says so (RFC 7009 §2.2.1 `unsupported_token_type`) rather than answer 200. Anything else — forged,
   * malformed, oversized, another algorithm — is just an invalid token. Meant for tokens `open` refused.
   */
  sealedForOthers(token: string): boolean;
}

/** Builds the sealer over the registered keys (already validated by the config loader). */
export function createTokenSealer(keys: Readonly<Record<string, JWK>>): TokenSealer {
  const byAudience = new Map<string, EncryptionKey>();
  for (const [audience, jwk] of Object.entries(keys)) byAudience.set(audience, importEncryptionKey(jwk));
  const privateKeys = [...byAudience.values()].filter((key) => key.type === 'private');
  const privateKids = new Set(privateKeys.map((key) => key.publicJwk.kid));
  const publicOnly = [...byAudience.values()].filter(
    (key) => key.type === 'public' && !privateKids.has(key.publicJwk.kid),
  );

  function recipientFor(aud: string | string[]): EncryptionKey | undefined {
    const audiences = typeof aud === 'string' ? [aud] : aud;
    const found = audiences.map((a) => byAudience.get(a));
    const first = found[0];
    if (first === undefined || found.some((k) => k?.publicJwk.kid !== first.publicJwk.kid)) return undefined;
    return first;
  }

  return {
    async seal(issued) {
      const recipient = byAudience.size === 0 ? undefined : recipientFor(issued.claims.aud);
      if (recipient === undefined) return issued;
      return {
        ...issued,
        token: await encryptJWT(issued.token, recipient, { typ: 'at+jwt' }),
        encrypted: true,
      };
    },
    async open(token) {
      // A JWS has two dots, a JWE four: only the latter needs a key.
      if (token.split('.', 6).length !== 5) return token;
      if (privateKeys.length === 0) {
        throw new JoseError('ERR_JWE_INVALID', 'this server holds no key to decrypt access tokens', {
          reason: 'alg',
        });
      }
      return decryptJWT(token, privateKeys);
    },
    sealedForOthers(token) {
      if (publicOnly.length === 0) return false;
      try {
        // With a kid, checkCompactJWE matched it and the alg to one of `publicOnly`; without one, any key of
        // that alg — and the tokens sealed here always carry the recipient's kid.
        return checkCompactJWE(token, publicOnly).kid !== undefined;
      } catch {
        return false;
      }
    },
  };
}
