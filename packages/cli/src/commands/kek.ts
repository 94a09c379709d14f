/** `jot kek`: a fresh 32-byte key-encryption key for `JOT_KEK` (AES-256 key wrapping the stored signing keys). */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';

import { writeJson, writeLine, type CliIo } from '../io.js';

/** Size of the KEK the server expects (docs/config.md). */
const KEK_BYTES = 32;

/** Registers `jot kek`. */
export function registerKek(program: Command, io: CliIo): void {
  program
    .command('kek')
    .description('print a new 32-byte key-encryption key (base64url) for JOT_KEK')
    .option('--json', 'print {"kek": "…"}')
    .addHelpText('after', '\nExample:\n  export JOT_KEK="$(jot kek)"')
    .action((options: { json?: boolean }) => {
      const kek = randomBytes(KEK_BYTES).toString('base64url');
      if (options.json === true) writeJson(io.stdout, { kek });
      else writeLine(io.stdout, kek);
    });
}
