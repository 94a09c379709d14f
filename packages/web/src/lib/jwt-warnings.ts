/**
 * What a careful reader should notice about a decoded token: unsigned (`alg: none`), no expiry, expired, not yet
 * valid, very long-lived, keys announced in the header, and claims that look like secrets or personal data
 * (a JWT payload is only base64url — anyone holding the token can read it).
 */
import type { DecodedJwt } from './jwt-decode.js';

/** One finding. `danger`: the token must not be accepted; `warning`: a risk; `info`: worth knowing. */
export interface Warning {
  level: 'danger' | 'warning' | 'info';
  /** Stable identifier (for tests and styling). */
  id: string;
  text: string;
}

const SENSITIVE =
  /pass(word|wd)?|pwd|secret|ssn|social.?security|card|credit|cvv|cvc|^pin$|iban|private.?key|api.?key|dob|birth/i;
const DAY = 86_400;

function sensitiveNames(value: unknown, path: string, found: string[]): void {
  if (typeof value !== 'object' || value === null || found.length >= 10) return;
  for (const [key, inner] of Object.entries(value)) {
    const name = path === '' ? key : `${path}.${key}`;
    if (SENSITIVE.test(key)) found.push(name);
    sensitiveNames(inner, name, found);
  }
}

/** Findings for `jwt` at time `nowSeconds`. */
export function warningsFor(
  jwt: Pick<DecodedJwt, 'header' | 'payload' | 'signature'>,
  nowSeconds = Date.now() / 1000,
): Warning[] {
  const { header, payload } = jwt;
  const out: Warning[] = [];
  const alg = header.alg;
  if (typeof alg !== 'string')
    out.push({
      level: 'danger',
      id: 'alg-missing',
      text: 'The header has no "alg": no verifier should accept this token.',
    });
  else if (alg.toLowerCase() === 'none')
    out.push({
      level: 'danger',
      id: 'alg-none',
      text: 'alg: none — the token is unsigned; anyone can forge it. Reject it.',
    });
  else if (jwt.signature.length === 0)
    out.push({ level: 'danger', id: 'no-signature', text: 'The signature is empty.' });
  for (const member of ['jku', 'x5u', 'jwk', 'x5c'])
    if (member in header)
      out.push({
        level: 'warning',
        id: `header-${member}`,
        text: `The header carries "${member}": a verifier must never take its key from the token itself.`,
      });

  const exp = payload.exp;
  const iat = payload.iat;
  const nbf = payload.nbf;
  if (exp === undefined)
    out.push({ level: 'warning', id: 'no-exp', text: 'No "exp": this token never expires.' });
  else if (typeof exp !== 'number')
    out.push({ level: 'danger', id: 'bad-exp', text: '"exp" is not a number (NumericDate).' });
  else if (exp <= nowSeconds)
    out.push({
      level: 'warning',
      id: 'expired',
      text: `Expired ${Math.round((nowSeconds - exp) / 60)} minute(s) ago.`,
    });
  if (typeof nbf === 'number' && nbf > nowSeconds)
    out.push({ level: 'info', id: 'not-yet-valid', text: 'Not valid yet ("nbf" is in the future).' });
  if (typeof iat === 'number' && iat > nowSeconds + 60)
    out.push({ level: 'warning', id: 'iat-future', text: '"iat" is in the future.' });
  const start = typeof iat === 'number' ? iat : typeof nbf === 'number' ? nbf : undefined;
  if (typeof exp === 'number' && start !== undefined && exp - start > DAY)
    out.push({
      level: 'warning',
      id: 'long-lifetime',
      text: `Long lifetime: ${Math.round((exp - start) / 3600)} hours. Access tokens should live minutes.`,
    });

  const names: string[] = [];
  sensitiveNames(payload, '', names);
  if (names.length > 0)
    out.push({
      level: 'warning',
      id: 'sensitive-claims',
      text: `Sensitive-looking claims (readable by anyone holding the token): ${names.join(', ')}.`,
    });
  return out;
}
