/** JWS protected header as Jot reads it (RFC 7515 §4). */
import type { Algorithm } from '../lib/algorithms.js';

/** A verified or decoded JWS header. Only `alg` is guaranteed; other members are as the issuer wrote them. */
export interface JWSHeader {
  /** The algorithm, already checked against the allow-list when the header came from a verification. */
  alg: Algorithm;
  kid?: string;
  typ?: string;
  cty?: string;
  [parameter: string]: unknown;
}
