/**
 * The mailbox an address delivers to, as far as its spelling tells: the key a per-recipient mail budget counts
 * under. Sub-addressing (`ada+anything@example.com`, RFC 5233) reaches ada's mailbox, and Gmail ignores dots in
 * the local part and treats googlemail.com as gmail.com — so `a.d.a+1@googlemail.com` and `ada@gmail.com` are one
 * inbox. Without this, each variant had a budget of its own, and registering or asking for links with a thousand
 * variants filled one inbox. Accounts stay distinct by their full address (store/email.ts): this key only counts mail.
 */
import { emailKeyOf } from '../store/index.js';

/** Domains whose local parts ignore dots (and which are one another's aliases). */
const DOTLESS = new Map([
  ['gmail.com', 'gmail.com'],
  ['googlemail.com', 'gmail.com'],
]);

/** `email`'s mailbox key: its comparison key without a `+tag`, and without Gmail's dots; trimmed lower case if invalid. */
export function mailboxKey(email: string): string {
  const key = emailKeyOf(email) ?? email.trim().toLowerCase();
  const at = key.lastIndexOf('@');
  if (at <= 0) return key;
  let local = key.slice(0, at);
  let domain = key.slice(at + 1);
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  const dotless = DOTLESS.get(domain);
  if (dotless !== undefined) {
    domain = dotless;
    local = local.replaceAll('.', '') || local;
  }
  return `${local}@${domain}`;
}
