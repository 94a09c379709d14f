/** JSON Web Key shapes (RFC 7517, RFC 7518 §6, RFC 8037 §2) as Jot reads and writes them. */

/** A JWK as plain JSON. Only the members Jot uses are typed; others are kept as `unknown`. */
export interface JWK {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  k?: string;
  [member: string]: unknown;
}

/** A JWK Set (RFC 7517 §5). */
export interface JWKS {
  keys: JWK[];
}
