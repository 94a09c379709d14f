/** The bootstrap admin (`JOT_ADMIN_EMAIL`, `JOT_ADMIN_PASSWORD`): both set, or neither. */
import { emailKey, InvalidEmailError } from '../store/email.js';
import type { SettingKey } from './defaults.js';
import * as p from './parsers.js';
import type { SettingsReader } from './reader.js';

/** The bootstrap admin's email and password: both or neither. */
export function readBootstrapAdmin({ read, fail }: SettingsReader): {
  adminEmail: string | undefined;
  adminPassword: string | undefined;
} {
  const adminEmail = read('adminEmail', (v) => {
    const s = p.string(v);
    // The rule accounts are keyed by: an address no account can have would only fail later, at start-up.
    try {
      emailKey(s);
    } catch (err) {
      if (err instanceof InvalidEmailError) throw new p.Invalid(err.message);
      throw err;
    }
    return s;
  });
  const adminPassword = read('adminPassword', (v) => {
    const s = typeof v === 'string' ? v : '';
    if (s.length < 8) throw new p.Invalid('expected a password of at least 8 characters');
    return s;
  });
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    const unset: SettingKey = adminEmail === undefined ? 'adminEmail' : 'adminPassword';
    fail(unset, undefined, 'JOT_ADMIN_EMAIL and JOT_ADMIN_PASSWORD must be set together');
  }
  return { adminEmail, adminPassword };
}
