/**
 * Rules for new passwords, after NIST SP 800-63B §5.1.1.2: at least 8 characters (counted as code points) and at most
 * 1024, no composition rules, and refused when it is a common password (the bundled list), one character repeated,
 * whitespace only, or the account's email. Each refusal has its own code.
 */
import type { ServerErrorCode } from '@jot/contract';

import { isCommonPassword } from './common-passwords.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords.js';
import { DomainError } from './errors.js';

function refuse(code: ServerErrorCode, message: string): never {
  throw new DomainError('invalid', code, message);
}

/**
 * Throws 400 when `password` may not be used for the account `email`: `ERR_WEAK_PASSWORD` (length, or the email
 * itself), `ERR_PASSWORD_BLANK` (whitespace only), `ERR_PASSWORD_COMMON` (a common or trivially repeated password).
 */
export function checkPasswordStrength(password: string, email: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    refuse(
      'ERR_WEAK_PASSWORD',
      `passwords must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
  if (password.trim() === '') refuse('ERR_PASSWORD_BLANK', 'the password must not be only spaces');
  const lower = password.trim().toLowerCase();
  if (lower === email.trim().toLowerCase() || lower === email.trim().toLowerCase().split('@')[0]) {
    refuse('ERR_WEAK_PASSWORD', 'the password must not be the email address');
  }
  if (isCommonPassword(password) || new Set(password).size === 1) {
    refuse(
      'ERR_PASSWORD_COMMON',
      'this password is among the most commonly used ones and easy to guess; choose another',
    );
  }
}
