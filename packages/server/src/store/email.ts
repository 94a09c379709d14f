/**
 * Email addresses: one account per address a person can tell apart. The comparison key is the address with its
 * compatibility characters folded (NFKC: fullwidth `ＡＤＡ` is `ada`), case-folded, with its domain in IDNA ASCII form
 * and without a trailing root dot; decomposed and precomposed accents compare equal. Addresses carrying control,
 * zero-width, bidi-override or other invisible formatting characters are refused outright: they exist only to make
 * two different addresses look alike. The display form (trimmed, NFC) is what users and admins see.
 *
 * The domain must be a domain name, strictly: letters, digits, hyphens and dots only (IDN letters before their IDNA
 * conversion), every label 1–63 characters without a leading or trailing hyphen, 253 at most in all, and a final
 * label that is not a number; an `xn--` label must be the IDNA ASCII form of a Unicode label. Anything else —
 * `/ ? # \ : @ %`, brackets, underscores, empty labels, an IP address, undecodable punycode — is refused, never
 * trimmed: the URL host parser the IDNA conversion goes through stops at a URL delimiter, so
 * `victim@example.org#x` would otherwise have had the key of `victim@example.org` (a squatted account, a sign-in
 * with a suffix). An ASCII domain's key is exactly its lowercased form; a non-ASCII one is its IDNA ASCII form.
 */
import { domainToASCII, domainToUnicode } from 'node:url';

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

/** The characters an ASCII domain may have (after lowercasing); any other ASCII character refuses the address. */
const ASCII_OUTSIDE_DOMAIN = /[\0-,/:-`{-\x7f]/u;

/** One label of a domain in its ASCII form: 1–63 letters, digits and hyphens, not starting or ending with a hyphen. */
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/u;

/** A final label that makes the domain an IPv4 address to a URL parser (decimal, or `0x` hexadecimal). */
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/u;

/**
 * Whether an `xn--` label is the IDNA ASCII form of a Unicode label: it decodes to one with a non-ASCII character
 * (`xn--abc-` decodes to plain `abc`, a second spelling of that label) whose ASCII form is the label itself. Decided
 * here, not left to `domainToASCII`: Node 20's and 22's turn a domain with an undecodable label (`xn--zz`) into '',
 * while Node 24's (its URL parser ada 4) passes it through unchanged, and only `domainToUnicode` tells, by leaving
 * the label undecoded. Node 20 and 22 also took `xn--abc-` as a valid label.
 */
function isALabel(label: string): boolean {
  const unicode = domainToUnicode(label);
  return /[^\0-\x7f]/u.test(unicode) && domainToASCII(unicode) === label;
}

/** Why a domain with one of these labels is refused, or undefined when none is an `xn--` label that is not one. */
function fakeALabel(labels: readonly string[]): string | undefined {
  const fake = labels.find((label) => label.startsWith('xn--') && !isALabel(label));
  return fake === undefined
    ? undefined
    : `the email domain has a label "${fake}" that is not the ASCII form of an international name`;
}

/** What is wrong with a domain's ASCII form, or undefined when it is a domain name. */
function domainProblem(ascii: string): string | undefined {
  if (ascii === '') return 'the email domain is not a valid domain name';
  if (ascii.length > 253) return 'the email domain is longer than 253 characters';
  const labels = ascii.split('.');
  for (const label of labels) {
    if (label === '') return 'the email domain has an empty label (two dots in a row, or a leading dot)';
    if (label.length > 63) return 'the email domain has a label longer than 63 characters';
    if (!LABEL.test(label)) {
      return 'each part of the email domain must be letters, digits and hyphens, not starting or ending with a hyphen';
    }
  }
  const fake = fakeALabel(labels);
  if (fake !== undefined) return fake;
  if (NUMERIC_LABEL.test(labels[labels.length - 1] ?? '')) {
    return 'the email domain must be a domain name, not an IP address';
  }
  return undefined;
}

/**
 * The comparison key of an address (unique per account). Throws {@link InvalidEmailError} for an address no account
 * can have; two addresses share a key only when they are the same address (see the module comment).
 */
export function emailKey(email: string): string {
  const folded = displayEmail(email).normalize('NFKC');
  const at = folded.lastIndexOf('@');
  const local = folded.slice(0, at).toLowerCase().normalize('NFKC');
  const domainPart = folded
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/u, '');
  const domainError = (why: string): InvalidEmailError =>
    new InvalidEmailError('domain', `${why}; expected an address like name@example.com`);
  if (local === '')
    throw new InvalidEmailError('format', 'expected one email address, like name@example.com');
  const stray = ASCII_OUTSIDE_DOMAIN.exec(domainPart);
  if (stray !== null) {
    throw domainError(`the email domain must not contain ${JSON.stringify(stray[0])}`);
  }
  // Checked before the conversion too, so that the answer is the same on every Node release (see isALabel).
  const fake = fakeALabel(domainPart.split(/[.\u3002]/u));
  if (fake !== undefined) throw domainError(fake);
  const domain = domainToASCII(domainPart);
  const problem = domainProblem(domain);
  if (problem !== undefined) throw domainError(problem);
  // An ASCII domain is taken as typed: the URL parser would rewrite some (`0x7f.1` is 127.0.0.1) into another one.
  if (/^[\0-\x7f]*$/u.test(domainPart) && domain !== domainPart) {
    throw domainError('the email domain is not a valid domain name');
  }
  return `${local}@${domain}`;
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

/**
 * The key to find the rows of an address already stored by: its comparison key, or — for an address stored before
 * today's rules refused it (older data) — the address itself, which equals no valid key (a key is its own key, so a
 * refused string never is one). For queries on stored data only (an account being deleted, a link being followed),
 * which must not fail on such a row; an address coming in is checked with {@link emailKey}.
 */
export function storedEmailKey(email: string): string {
  return emailKeyOf(email) ?? email;
}
