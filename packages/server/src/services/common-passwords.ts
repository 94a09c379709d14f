/**
 * The common-password list: the ranked password dictionary of `@zxcvbn-ts/language-common` (about 49,000 passwords
 * seen most often in breach corpora, most common first), bundled with the package and never fetched at run time.
 * Only entries long enough to pass the length rule matter, so only those are kept, lowercased, in a Set built on
 * first use.
 */
import { dictionary } from '@zxcvbn-ts/language-common';

import { MIN_PASSWORD_LENGTH } from './passwords.js';

let common: ReadonlySet<string> | undefined;

function list(): ReadonlySet<string> {
  if (common === undefined) {
    const ranked = dictionary['passwords-common'] ?? [];
    common = new Set(ranked.map((p) => p.toLowerCase()).filter((p) => [...p].length >= MIN_PASSWORD_LENGTH));
  }
  return common;
}

/** How many entries the bundled list has in total (a test checks it covers at least the 10,000 most common). */
export function commonPasswordListSize(): number {
  return (dictionary['passwords-common'] ?? []).length;
}

/** Whether `password` (case-insensitively) is one of the common passwords. */
export function isCommonPassword(password: string): boolean {
  return list().has(password.toLowerCase());
}
