/**
 * `jot keygen`: a signing key pair. Without `--out` both halves go to stdout (printing the private key is the
 * point of the command): two PEM blocks, or one JSON object with both JWKs. With `--out` the private key is written
 * with mode 0600 and the public key next to it; existing files are kept unless `--force`.
 */
import { Option, type Command } from 'commander';
import { generateKeyPair, type Algorithm, type Key } from '@jot/jose';

import { writeJson, writeLine, type CliIo } from '../io.js';
import { writeFiles } from '../lib/files.js';
import { ASYMMETRIC_ALGORITHMS } from '../lib/options.js';

interface KeygenOptions {
  alg: Algorithm;
  format: 'jwk' | 'pem';
  kid?: string;
  out?: string;
  force?: boolean;
  json?: boolean;
}

/** `signing.pem` → `signing.pub.pem`, `key.json` → `key.pub.json`, `key` → `key.pub`. */
export function publicPathFor(out: string): string {
  const match = /^(.*[^/\\])(\.(?:pem|json|jwk|key))$/i.exec(out);
  return match === null ? `${out}.pub` : `${match[1]}.pub${match[2]}`;
}

function serialize(key: Key, format: 'jwk' | 'pem', includePrivate: boolean): string {
  if (format === 'pem') return key.toPEM();
  return `${JSON.stringify(key.toJWK({ includePrivate }), null, 2)}\n`;
}

/** Makes the key pair and writes it to files (with a summary) or prints it. */
function runKeygen(io: CliIo, options: KeygenOptions): void {
  const key = generateKeyPair(options.alg, { kid: options.kid });
  const privateText = serialize(key, options.format, true);
  const publicText = serialize(key.publicKey(), options.format, false);
  if (options.out !== undefined) {
    const publicPath = publicPathFor(options.out);
    writeFiles(
      io,
      [
        { path: options.out, contents: privateText, secret: true },
        { path: publicPath, contents: publicText, secret: false },
      ],
      options.force === true,
    );
    const summary = {
      alg: options.alg,
      kid: key.kid,
      privateKeyFile: options.out,
      publicKeyFile: publicPath,
    };
    if (options.json === true) writeJson(io.stdout, summary);
    else {
      writeLine(io.stdout, `private key: ${options.out} (mode 0600, keep it secret)`);
      writeLine(io.stdout, `public key:  ${publicPath}`);
      writeLine(io.stdout, `alg ${options.alg}, kid ${key.kid}`);
    }
    return;
  }
  if (options.format === 'pem' && options.json !== true) {
    io.stdout.write(privateText + publicText);
    return;
  }
  const value = (k: Key, includePrivate: boolean): unknown =>
    options.format === 'pem' ? k.toPEM() : k.toJWK({ includePrivate });
  writeJson(io.stdout, {
    alg: options.alg,
    kid: key.kid,
    privateKey: value(key, true),
    publicKey: value(key.publicKey(), false),
  });
}

/** Registers `jot keygen`. */
export function registerKeygen(program: Command, io: CliIo): void {
  program
    .command('keygen')
    .description('generate a signing key pair: private key (PKCS #8 PEM or private JWK) and its public key')
    .addOption(
      new Option('--alg <alg>', 'algorithm the key is for')
        .choices(ASYMMETRIC_ALGORITHMS)
        .makeOptionMandatory(),
    )
    .addOption(new Option('--format <format>', 'key file format').choices(['jwk', 'pem']).default('jwk'))
    .option('--kid <kid>', 'key id (default: the RFC 7638 thumbprint)')
    .option('--out <file>', 'write the private key here (mode 0600) and the public key to <file> with ".pub"')
    .option('--force', 'replace existing files')
    .option('--json', 'print {"alg", "kid", "privateKey", "publicKey"} (the default for --format jwk)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  jot keygen --alg ES256 --out signing.json        # signing.json (0600) + signing.pub.json',
        '  jot keygen --alg RS256 --format pem --kid k1 --out rs.pem',
      ].join('\n'),
    )
    .action((options: KeygenOptions) => runKeygen(io, options));
}
