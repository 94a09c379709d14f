/**
 * `jot sign`: signs a JWT with a private key file or an HMAC secret from the environment, for tests and
 * service-to-service scripts. The token gets `iat` and, unless the claims carry their own `exp`, a 15-minute `exp`.
 */
import { Option, type Command } from 'commander';
import { sign, type Algorithm, type Key, type SecretEncoding, type SignOptions } from '@jot/jose';

import { CliError } from '../errors.js';
import { writeLine, type CliIo } from '../io.js';
import { readJsonObject } from '../lib/input.js';
import { loadKeyFile, loadSecretEnv } from '../lib/keys.js';
import { collect, durationSeconds, parseAlgorithm } from '../lib/options.js';

interface SignCommandOptions {
  key?: string;
  secretEnv?: string;
  secretEncoding: SecretEncoding;
  alg?: Algorithm;
  claims: string;
  exp?: number;
  iss?: string;
  aud?: string[];
  sub?: string;
  typ?: string;
  kid?: string;
}

/** Lifetime used when neither `--exp` nor an `exp` claim is given. */
const DEFAULT_EXP_SECONDS = 15 * 60;

function signingKey(io: CliIo, options: SignCommandOptions, alg: Algorithm | undefined): Key {
  if ((options.key === undefined) === (options.secretEnv === undefined)) {
    throw new CliError('ERR_CLI_USAGE', 'pass exactly one of --key <file> or --secret-env <VAR>');
  }
  const keyOptions = { alg, kid: options.kid };
  const key =
    options.key !== undefined
      ? loadKeyFile(io, options.key, keyOptions)
      : loadSecretEnv(io, options.secretEnv ?? '', options.secretEncoding, keyOptions);
  if (key.type === 'public') {
    throw new CliError(
      'ERR_CLI_USAGE',
      `"${options.key ?? ''}" holds a public key; signing needs the private key`,
    );
  }
  if (key.alg === undefined) {
    const choices = [...key.algorithms].join(', ');
    throw new CliError('ERR_CLI_USAGE', `this key can sign ${choices}; choose one with --alg`);
  }
  return key;
}

/** Registers `jot sign`. */
export function registerSign(program: Command, io: CliIo): void {
  program
    .command('sign')
    .description('sign a JWT with a private key file or an HMAC secret (tests, service-to-service scripts)')
    .requiredOption('--claims <json|@file>', 'claims as JSON, @file, or @- for stdin')
    .option('--key <file>', 'private key as PKCS #8 PEM or private JWK')
    .option('--secret-env <VAR>', 'environment variable holding an HMAC secret (base64url by default)')
    .addOption(
      new Option('--secret-encoding <encoding>', 'how the secret is spelled')
        .choices(['base64url', 'hex', 'utf8'])
        .default('base64url'),
    )
    .option('--alg <alg>', 'algorithm (default: the one the key is bound to)', parseAlgorithm)
    .option(
      '--exp <duration>',
      'lifetime from now, e.g. 15m (default 15m unless the claims have "exp")',
      durationSeconds,
    )
    .option('--iss <issuer>', 'the "iss" claim')
    .option('--aud <audience>', 'the "aud" claim (repeat for several)', collect)
    .option('--sub <subject>', 'the "sub" claim')
    .option('--typ <typ>', 'the "typ" header', 'JWT')
    .option('--kid <kid>', 'the "kid" header (default: the JWK\'s kid or the key thumbprint)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  jot sign --key signing.json --claims \'{"sub":"svc-billing","scope":"read"}\' --exp 5m \\',
        '      --iss https://auth.example.com --aud https://api.example.com --typ at+jwt',
        '  jot sign --secret-env JWT_SECRET --claims @claims.json',
      ].join('\n'),
    )
    .action(async (options: SignCommandOptions) => {
      const claims = await readJsonObject(io, options.claims, '--claims');
      const key = signingKey(io, options, options.alg);
      const now = io.now();
      const expiresIn = options.exp ?? (Object.hasOwn(claims, 'exp') ? undefined : DEFAULT_EXP_SECONDS);
      const signOptions: SignOptions = {
        typ: options.typ,
        expiresIn,
        issuer: options.iss,
        subject: options.sub,
        audience: options.aud?.length === 1 ? options.aud[0] : options.aud,
        currentDate: now,
      };
      let token: string;
      try {
        token = sign(claims, key, signOptions);
      } catch (err) {
        // jose reports a bad claim type ("exp": "tomorrow") as TypeError; here it came from the user's claims.
        if (err instanceof TypeError) throw new CliError('ERR_CLI_USAGE', err.message.replace(/^sign: /, ''));
        throw err;
      }
      writeLine(io.stdout, token);
    });
}
