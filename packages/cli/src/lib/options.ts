/** Option parsers shared by the commands, so a bad value is a usage error (exit 2) before any work starts. */
import { InvalidArgumentError } from 'commander';
import { isAlgorithm, parseDuration, SUPPORTED_ALGORITHMS, type Algorithm } from '@jot/jose';

import { CliError } from '../errors.js';

/** HMAC algorithms, for `jot secret`. */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/** Asymmetric algorithms, for `jot keygen`. */
export const ASYMMETRIC_ALGORITHMS: readonly Algorithm[] = SUPPORTED_ALGORITHMS.filter(
  (alg) => !alg.startsWith('HS'),
);

/** Parses a duration (`15m`, `30s`, `900`) into seconds. */
export function durationSeconds(value: string): number {
  try {
    return parseDuration(value);
  } catch {
    throw new InvalidArgumentError('expected a duration such as 30s, 15m, 12h, 7d, or a number of seconds');
  }
}

/** An option parser for a whole number from `min` to `max` (`--limit`, `--offset`): anything else is a usage error. */
export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max))
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** Collects a repeatable option into an array (`--aud a --aud b`). */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Collects algorithms from a repeatable, comma-separated `--alg`; each must be supported. Deliberately not
 * variadic: `--alg RS256 <token>` would swallow the token as an algorithm and echo it in the error.
 */
export function collectAlgorithms(value: string, previous: readonly Algorithm[] | undefined): Algorithm[] {
  const list = [...(previous ?? [])];
  for (const alg of value.split(',').map((part) => part.trim())) {
    if (alg === '') continue;
    if (!isAlgorithm(alg)) {
      throw new InvalidArgumentError(`unsupported algorithm; choose from ${SUPPORTED_ALGORITHMS.join(', ')}`);
    }
    if (!list.includes(alg)) list.push(alg);
  }
  return list;
}

/** Parses one algorithm name. */
export function parseAlgorithm(value: string): Algorithm {
  const [alg, ...rest] = collectAlgorithms(value, []);
  if (alg === undefined || rest.length > 0) throw new InvalidArgumentError('expected one algorithm');
  return alg;
}

/** Turns an empty list (an option never given) into `undefined`. */
export function nonEmpty<T>(list: readonly T[] | undefined): readonly T[] | undefined {
  return list === undefined || list.length === 0 ? undefined : list;
}

/**
 * Checks that `name`, given to `option` (`--password-env`, `--secret-env`), is an environment variable's name. A
 * password or secret passed there by mistake (`--password-env "$ADMIN_PASSWORD"`) is refused with `ERR_CLI_USAGE`
 * and never echoed.
 */
export function envVarName(name: string, option: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return name;
  throw new CliError(
    'ERR_CLI_USAGE',
    `${option} takes the name of an environment variable (letters, digits and _, not starting with a digit), ` +
      'not its value; the value given is not shown',
  );
}
