/** `jot secret`: a random HMAC secret as long as the algorithm's hash (RFC 7518 §3.2), base64url. */
import { Option, type Command } from 'commander';
import { generateSecret } from '@jot/jose';

import { writeJson, writeLine, type CliIo } from '../io.js';
import { HMAC_ALGORITHMS } from '../lib/options.js';

/** Registers `jot secret`. */
export function registerSecret(program: Command, io: CliIo): void {
  program
    .command('secret')
    .description('print a new HMAC secret (base64url): 32, 48 or 64 random bytes for HS256, HS384 or HS512')
    .addOption(new Option('--alg <alg>', 'HMAC algorithm').choices(HMAC_ALGORITHMS).default('HS256'))
    .option('--json', 'print {"alg": "…", "secret": "…"}')
    .addHelpText(
      'after',
      '\nExample:\n  export JWT_SECRET="$(jot secret --alg HS512)"\n  jot sign --secret-env JWT_SECRET --claims \'{"sub":"svc"}\'',
    )
    .action((options: { alg: (typeof HMAC_ALGORITHMS)[number]; json?: boolean }) => {
      const jwk = generateSecret(options.alg).toJWK({ includePrivate: true });
      const secret = jwk.k as string;
      if (options.json === true) writeJson(io.stdout, { alg: options.alg, secret });
      else writeLine(io.stdout, secret);
    });
}
