/** JWT claim set types (RFC 7519 §4.1). */

/** Registered claims with their required JSON types, plus any others. */
export interface JWTPayload {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  /** Expiration time, seconds since the epoch. */
  exp?: number;
  /** Not before, seconds since the epoch. */
  nbf?: number;
  /** Issued at, seconds since the epoch. */
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}
