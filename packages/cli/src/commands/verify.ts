/**
 * `jot verify`: checks a token's signature and claims with `@jot/jose` against a JWKS (URL or file), a key file or
 * an HMAC secret from the environment. Exit 0 with the claims when valid; exit 1 with the JOSE code when not;
 * exit 2 when the check could not run (bad options, unreadable key, unreachable JWKS).
 */
import { Option, type Command } from 'commander';
import {
  createVerifier,
  isJoseError,
  type Algorithm,
  type JWTVerifier,
  type KeyResolver,
  type SecretEncoding,
  type VerifiedJWT,
} from '@jot/jose';

import { CliError, EXIT } from '../errors.js';
import { writeJson, writeLine, type CliIo } from '../io.js';
import { formatTimes, timeViews } from '../lib/claims-view.js';
import { readToken } from '../lib/input.js';
import { loadJwks, loadKeyFile, loadSecretEnv } from '../lib/keys.js';
import { collect, collectAlgorithms, durationSeconds, nonEmpty } from '../lib/options.js';

interface VerifyCommandOptions {
  alg: Algorithm[];
  jwks?: string;
  key?: string;
  secretEnv?: string;
  secretEncoding: SecretEncoding;
  iss?: string[];
  aud?: string[];
  typ?: string;
  clockTolerance: number;
  timeout: number;
  json?: boolean;
}

async function resolveKeys(io: CliIo, options: VerifyCommandOptions): Promise<KeyResolver> {
  const given = [options.jwks, options.key, options.secretEnv].filter((source) => source !== undefined);
  if (given.length !== 1) {
    throw new CliError(
      'ERR_CLI_USAGE',
      'pass exactly one of --jwks <url|file>, --key <file> or --secret-env <VAR>',
    );
  }
  if (options.jwks !== undefined) return loadJwks(io, options.jwks, options.timeout);
  if (options.key !== undefined) {
    const key = loadKeyFile(io, options.key);
    return key.type === 'private' ? key.publicKey() : key;
  }
  return loadSecretEnv(io, options.secretEnv ?? '', options.secretEncoding);
}

/** The verifier the options ask for; a misuse jose reports is a usage error (every option came from the command line). */
function verifierOf(
  keys: Awaited<ReturnType<typeof resolveKeys>>,
  options: VerifyCommandOptions,
): JWTVerifier {
  try {
    return createVerifier(keys, {
      algorithms: options.alg,
      issuer: nonEmpty(options.iss),
      audience: nonEmpty(options.aud),
      typ: options.typ,
      clockTolerance: options.clockTolerance,
    });
  } catch (err) {
    // jose reports misuse as TypeError; here every option came from the command line.
    if (err instanceof TypeError) throw new CliError('ERR_CLI_USAGE', err.message.replace(/^verify: /, ''));
    throw err;
  }
}

/** Prints a verified token: JSON, or the header, payload and times for a reader. */
function printVerified(io: CliIo, result: VerifiedJWT, now: Date, json: boolean | undefined): void {
  const { header, payload, key } = result;
  if (json === true) {
    writeJson(io.stdout, { valid: true, header, payload });
    return;
  }
  const times = timeViews(payload, now);
  const lines = [
    `VERIFIED: signature (${header.alg}, kid ${key.kid}) and claims are valid.`,
    '',
    'Header:',
    JSON.stringify(header, null, 2),
    '',
    'Payload:',
    JSON.stringify(payload, null, 2),
  ];
  if (times.length > 0) lines.push('', 'Times:', ...formatTimes(times));
  writeLine(io.stdout, lines.join('\n'));
}

/** `jot verify`: exit 0 with the claims, or exit 1 with the error code (as JSON too with --json). */
async function runVerify(io: CliIo, arg: string, options: VerifyCommandOptions): Promise<void> {
  const token = await readToken(io, arg);
  const verifier = verifierOf(await resolveKeys(io, options), options);
  const now = io.now();
  let result: VerifiedJWT;
  try {
    result = verifier(token, { currentDate: now });
  } catch (err) {
    if (!isJoseError(err)) throw err;
    if (options.json === true) {
      writeJson(io.stdout, {
        valid: false,
        code: err.code,
        claim: err.claim,
        reason: err.reason,
        message: err.message,
      });
    }
    const claim = err.claim === undefined ? '' : ` (${err.claim})`;
    throw new CliError(err.code, `${err.message}${claim}`, EXIT.checkFailed);
  }
  printVerified(io, result, now, options.json);
}

/** Registers `jot verify`. */
export function registerVerify(program: Command, io: CliIo): void {
  program
    .command('verify')
    .description(
      "verify a token's signature and claims; print the claims (exit 0) or the error code (exit 1)",
    )
    .argument('<token>', 'the JWT, or "-" to read it from stdin')
    .requiredOption(
      '--alg <alg>',
      'allowed algorithm; repeat or comma-separate for several (RS256,ES256)',
      collectAlgorithms,
    )
    .option('--jwks <url|file>', 'JSON Web Key Set: an http(s) URL or a file')
    .option('--key <file>', 'public key (or private key/secret) as PEM or JWK')
    .option('--secret-env <VAR>', 'environment variable holding the HMAC secret')
    .addOption(
      new Option('--secret-encoding <encoding>', 'how the secret is spelled')
        .choices(['base64url', 'hex', 'utf8'])
        .default('base64url'),
    )
    .option('--iss <issuer>', 'required issuer (repeat to accept several)', collect)
    .option('--aud <audience>', 'required audience (repeat to accept several)', collect)
    .option('--typ <typ>', 'required "typ" header, e.g. at+jwt')
    .addOption(
      new Option('--clock-tolerance <duration>', 'leeway for exp/nbf/iat')
        .argParser(durationSeconds)
        .default(0, '0s'),
    )
    .addOption(
      new Option('--timeout <duration>', 'JWKS fetch timeout').argParser(durationSeconds).default(5, '5s'),
    )
    .option('--json', 'print {"valid", "header", "payload"} or {"valid": false, "code", "claim", "reason"}')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  jot verify - --alg RS256 --jwks https://auth.example.com/.well-known/jwks.json \\',
        '      --iss https://auth.example.com --aud https://api.example.com --typ at+jwt < token.txt',
        '  jot verify "$TOKEN" --alg ES256 --key signing.pub.json',
        '  jot verify - --alg HS256 --secret-env JWT_SECRET',
      ].join('\n'),
    )
    .action((arg: string, options: VerifyCommandOptions) => runVerify(io, arg, options));
}
