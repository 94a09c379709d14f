/**
 * Email addresses: one account per address a person can tell apart. The comparison key is the address with its
 * compatibility characters folded (NFKC: fullwidth `ＡＤＡ` is `ada`), case-folded, with its domain in IDNA ASCII form
 * and without a trailing root dot; decomposed and precomposed accents compare equal. Addresses carrying control,
 * zero-width, bidi-override or other invisible formatting characters are refused outright: they exist only to make
 * two different addresses look alike. The display form (trimmed, NFC) is what users and admins see.
 */
import { domainToASCII } from 'node:url';

/** Why an address was refused. */
export type EmailProblem = 'format' | 'invisible' | 'domain';

/** Thrown for an address that cannot be an account's email. */
export class InvalidEmailError extends Error {
  readonly problem: EmailProblem;
  constructor(problem: EmailProblem, message: string) {
    super(message);
    this.name = 'InvalidEmailError';
    this.problem = problem;
  }
}

/**
 * Control characters (Cc), format characters (Cf: zero-width joiners, bidi marks, overrides and isolates, the BOM,
 * soft hyphens), line/paragraph separators and the Hangul/Mongolian fillers that render as nothing.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u180E\u2800]/u;

/** The display form of an address: trimmed, NFC. Refuses invisible characters and addresses without one `@`. */
export function displayEmail(email: string): string {
  const trimmed = email.normalize('NFC').trim();
  if (INVISIBLE.test(trimmed)) {
    throw new InvalidEmailError(
      'invisible',
      'the email contains control, zero-width or bidi-override characters',
    );
  }
  if (!/^[^\s@]+@[^\s@]+$/u.test(trimmed.normalize('NFKC')) || trimmed.length > 254) {
    throw new InvalidEmailError('format', 'expected one email address, like name@example.com');
  }
  return trimmed;
}

/** The comparison key of an address (unique per account). Throws {@link InvalidEmailError}. */
export function emailKey(email: string): string {
  const folded = displayEmail(email).normalize('NFKC');
  const at = folded.lastIndexOf('@');
  const local = folded.slice(0, at).toLowerCase().normalize('NFKC');
  const domainPart = folded.slice(at + 1).replace(/\.$/, '');
  const domain = domainToASCII(domainPart.toLowerCase());
  if (local === '' || domain === '' || domain.startsWith('.') || domain.includes('..')) {
    throw new InvalidEmailError('domain', 'the email domain is not a valid domain name');
  }
  return `${local}@${domain.toLowerCase()}`;
}

/** The comparison key of an address, or undefined for one no account can have (refused as `emailKey` refuses it). */
export function emailKeyOf(email: string): string | undefined {
  try {
    return emailKey(email);
  } catch (err) {
    if (err instanceof InvalidEmailError) return undefined;
    throw err;
  }
}
