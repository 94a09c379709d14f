/** Password rules for new passwords (NIST SP 800-63B §5.1.1.2: length, not the account name). */
import { HttpError } from '../http/errors.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords.js';

/** Throws 400 `ERR_WEAK_PASSWORD` when `password` may not be used for the account `email`. */
export function checkPasswordStrength(password: string, email: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new HttpError(
      400,
      'ERR_WEAK_PASSWORD',
      `passwords must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
  if (password.trim().toLowerCase() === email.trim().toLowerCase()) {
    throw new HttpError(400, 'ERR_WEAK_PASSWORD', 'the password must not be the email address');
  }
}
