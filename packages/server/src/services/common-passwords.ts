/**
 * The common-password list: the ranked password dictionary of `@zxcvbn-ts/language-common` (about 49,000 passwords
 * seen most often in breach corpora, most common first), bundled with the package and never fetched at run time.
 * Only entries long enough to pass the length rule matter, so only those are kept, lowercased, in a Set built on
 * first use. The package (which decompresses its dictionaries as it loads) is loaded then too, not with the server:
 * synchronously, through `require`, so that checking a password stays a synchronous call.
 */
import { createRequire } from 'node:module';

import type * as LanguageCommon from '@zxcvbn-ts/language-common';

import { MIN_PASSWORD_LENGTH } from './passwords.js';

let ranked: readonly string[] | undefined;
let common: ReadonlySet<string> | undefined;

/** The dictionary's ranked passwords, loading the package on the first call. */
function rankedPasswords(): readonly string[] {
  if (ranked === undefined) {
    const { dictionary } = createRequire(import.meta.url)(
      '@zxcvbn-ts/language-common',
    ) as typeof LanguageCommon;
    ranked = dictionary['passwords-common'] ?? [];
  }
  return ranked;
}

function list(): ReadonlySet<string> {
  common ??= new Set(
    rankedPasswords()
      .map((p) => p.toLowerCase())
      .filter((p) => [...p].length >= MIN_PASSWORD_LENGTH),
  );
  return common;
}

/** How many entries the bundled list has in total (a test checks it covers at least the 10,000 most common). */
export function commonPasswordListSize(): number {
  return rankedPasswords().length;
}

/** Whether `password` (case-insensitively) is one of the common passwords. */
export function isCommonPassword(password: string): boolean {
  return list().has(password.toLowerCase());
}
