/**
 * Where `verify` and `sign` get keys: a PEM or JWK file, an HMAC secret in an environment variable (so it never
 * appears in a command line), or a JWKS from a file or URL. Every key goes through `@jot/jose`'s importers, so
 * the same algorithm-family binding applies as in the server.
 */
import {
  importJWK,
  importPEM,
  importSecret,
  KeySet,
  type Key,
  type KeyOptions,
  type SecretEncoding,
} from '@jot/jose';

import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { readText } from './files.js';
import { envVarName } from './options.js';
import { jotServer } from './server.js';

/**
 * A JWKS source as a message may show it: the server's `redactUrl` (credentials removed), loading the server only
 * for this failure message — `verify` and `sign` do not otherwise need it.
 */
async function redacted(source: string): Promise<string> {
  return (await jotServer()).redactUrl(source);
}

/** Reads a key file holding a PEM (SPKI, PKCS #8, …) or one JWK. */
export function loadKeyFile(io: CliIo, path: string, options: KeyOptions = {}): Key {
  const text = readText(io, path, 'key file');
  if (text.includes('-----BEGIN ')) return importPEM(text, options);
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new CliError('ERR_KEY_INVALID', `the key file "${path}" is neither a PEM nor a JSON Web Key`);
  }
  if (typeof jwk === 'object' && jwk !== null && 'keys' in jwk) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `"${path}" is a key set (JWKS); pass it with --jwks instead of --key`,
    );
  }
  return importJWK(jwk, options);
}

/** Imports the HMAC secret held in environment variable `name`. */
export function loadSecretEnv(
  io: CliIo,
  name: string,
  encoding: SecretEncoding,
  options: KeyOptions = {},
): Key {
  const value = io.env[envVarName(name, '--secret-env')];
  if (value === undefined || value === '') {
    throw new CliError(
      'ERR_CLI_ENV_MISSING',
      `the environment variable ${name} (from --secret-env) is not set`,
    );
  }
  return importSecret(value.trim(), { ...options, encoding });
}

/** Fetches (http/https, with a timeout) or reads a JWKS and imports its signing keys. */
export async function loadJwks(io: CliIo, source: string, timeoutSeconds: number): Promise<KeySet> {
  let document: unknown;
  if (/^https?:\/\//i.test(source)) {
    document = await fetchJson(source, timeoutSeconds);
  } else {
    try {
      document = JSON.parse(readText(io, source, 'JWKS file'));
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError('ERR_KEY_INVALID', `the JWKS file "${source}" is not valid JSON`);
    }
  }
  const keys = KeySet.fromJWKS(document);
  if (keys.keys.length === 0) {
    throw new CliError(
      'ERR_KEY_INVALID',
      `the JWKS at ${await redacted(source)} holds no usable signing keys`,
    );
  }
  return keys;
}

/** A URL as it may appear in a message: any `user:password@` part removed. */
async function fetchJson(url: string, timeoutSeconds: number): Promise<unknown> {
  // fetch refuses credentials in a URL, and its message would repeat them.
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url)) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `the JWKS URL ${await redacted(url)} holds a user name or password: give a URL without credentials`,
    );
  }
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
      redirect: 'follow',
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const detail = timedOut ? `no answer within ${timeoutSeconds}s` : describeNetworkError(err);
    throw new CliError('ERR_CLI_JWKS_FETCH', `cannot fetch the JWKS from ${await redacted(url)}: ${detail}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new CliError(
      'ERR_CLI_JWKS_FETCH',
      `the JWKS URL ${await redacted(url)} answered HTTP ${response.status}`,
    );
  }
  try {
    return await response.json();
  } catch {
    throw new CliError('ERR_CLI_JWKS_FETCH', `the JWKS URL ${await redacted(url)} did not return JSON`);
  }
}

function describeNetworkError(err: unknown): string {
  const cause =
    err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
