/**
 * `jot decode`: a token's header and payload WITHOUT verification, for debugging. The output says so first, shows
 * NumericDates as ISO dates and lists warnings. A token that is not even well-formed exits 1 with its JOSE code.
 */
import type { Command } from 'commander';
import { decodeUnverified, isJoseError, type UnverifiedJWT } from '@jot/jose';

import { CliError, EXIT } from '../errors.js';
import { writeJson, writeLine, type CliIo } from '../io.js';
import { formatTimes, timeViews, tokenWarnings } from '../lib/claims-view.js';
import { readToken } from '../lib/input.js';

/** The banner above every human-readable decode. */
export const UNVERIFIED_BANNER =
  'UNVERIFIED: the signature was NOT checked; anyone could have written these claims.';

/** Registers `jot decode`. */
export function registerDecode(program: Command, io: CliIo): void {
  program
    .command('decode')
    .description("show a token's header and claims WITHOUT verifying it (debugging only)")
    .argument('<token>', 'the JWT, or "-" to read it from stdin (keeps it out of shell history)')
    .option('--json', 'print {"verified": false, "header", "payload", "times", "warnings"}')
    .addHelpText('after', '\nExamples:\n  pbpaste | jot decode -\n  jot decode - --json < token.txt')
    .action(async (arg: string, options: { json?: boolean }) => {
      const token = await readToken(io, arg);
      let decoded: UnverifiedJWT;
      try {
        decoded = decodeUnverified(token);
      } catch (err) {
        if (isJoseError(err)) throw new CliError(err.code, err.message, EXIT.checkFailed);
        throw err;
      }
      const now = io.now();
      const times = timeViews(decoded.payload, now);
      const warnings = tokenWarnings(decoded.header, decoded.payload, now);
      if (options.json === true) {
        writeJson(io.stdout, {
          verified: false,
          header: decoded.header,
          payload: decoded.payload,
          times,
          warnings,
        });
        return;
      }
      const lines = [
        UNVERIFIED_BANNER,
        '',
        'Header:',
        JSON.stringify(decoded.header, null, 2),
        '',
        'Payload:',
        JSON.stringify(decoded.payload, null, 2),
      ];
      if (times.length > 0) lines.push('', 'Times:', ...formatTimes(times));
      if (warnings.length > 0) lines.push('', 'Warnings:', ...warnings.map((w) => `  ! ${w}`));
      writeLine(io.stdout, lines.join('\n'));
    });
}
