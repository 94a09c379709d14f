/**
 * What a careful reader should notice about a decoded token: unsigned (`alg: none`), a non-canonical encoding,
 * no expiry, expired, not yet valid, time claims that are not finite numbers (`1e400` parses as Infinity), very
 * long-lived, keys announced in the header, and claims that look like secrets or personal data (a JWT payload is
 * only base64url — anyone holding the token can read it).
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

/** A NumericDate claim: absent, a finite number, or malformed (not a number, NaN or ±Infinity). */
function numericDate(value: unknown): number | 'absent' | 'bad' {
  if (value === undefined) return 'absent';
  return typeof value === 'number' && Number.isFinite(value) ? value : 'bad';
}

type Checked = Pick<DecodedJwt, 'header' | 'payload' | 'signature'> &
  Partial<Pick<DecodedJwt, 'nonCanonical'>>;

/** Findings for `jwt` at time `nowSeconds`. */
export function warningsFor(jwt: Checked, nowSeconds = Date.now() / 1000): Warning[] {
  const out: Warning[] = [];
  encodingWarnings(jwt, out);
  headerWarnings(jwt, out);
  timeWarnings(jwt.payload, nowSeconds, out);
  const names: string[] = [];
  sensitiveNames(jwt.payload, '', names);
  if (names.length > 0)
    out.push({
      level: 'warning',
      id: 'sensitive-claims',
      text: `Sensitive-looking claims (readable by anyone holding the token): ${names.join(', ')}.`,
    });
  return out;
}

function encodingWarnings(jwt: Checked, out: Warning[]): void {
  if (jwt.nonCanonical !== undefined && jwt.nonCanonical.length > 0)
    out.push({
      level: 'danger',
      id: 'non-canonical',
      text: `Non-canonical encoding — Jot rejects this token: the ${jwt.nonCanonical.join(', ')} ${jwt.nonCanonical.length === 1 ? 'is' : 'are'} not in canonical base64url (stray bits or padding), so the same bytes could be written several ways.`,
    });
}

/** The algorithm, the signature, and keys announced in the header. */
function headerWarnings(jwt: Checked, out: Warning[]): void {
  const { header } = jwt;
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
}

/** exp, nbf and iat: malformed, absent, expired, not yet valid, from the future, too long a lifetime. */
function timeWarnings(payload: Checked['payload'], nowSeconds: number, out: Warning[]): void {
  const exp = numericDate(payload.exp);
  const iat = numericDate(payload.iat);
  const nbf = numericDate(payload.nbf);
  for (const [name, value] of [
    ['exp', exp],
    ['nbf', nbf],
    ['iat', iat],
  ] as const)
    if (value === 'bad')
      out.push({
        level: 'danger',
        id: `bad-${name}`,
        text: `"${name}" is not a finite number (NumericDate): no verifier can compare it with the clock. Reject the token.`,
      });
  if (exp === 'absent')
    out.push({ level: 'warning', id: 'no-exp', text: 'No "exp": this token never expires.' });
  else if (typeof exp === 'number' && exp <= nowSeconds)
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
}
