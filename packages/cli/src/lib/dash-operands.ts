/**
 * Operands that may start with `-`. A signing key's kid is base64url and may begin with `-` (kids the server makes
 * today do not, older ones may): commander reads `jot keys withdraw -x3f…` as the unknown option `-x`, and
 * `-V…` as `--version`. A command given to `operandsMayStartWithDash` takes as an operand every argument that is
 * not exactly one of its own options (`--json`, `--help`); `--` still ends its options, as everywhere.
 */
import type { Command, Option } from 'commander';

const HELP_FLAGS = new Set(['-h', '--help']);

/** The option of `command` that `arg` is exactly (`--name=value` for one that takes a value), if any. */
function ownOption(command: Command, arg: string): Option | undefined {
  return command.options.find(
    (o) =>
      o.short === arg ||
      o.long === arg ||
      (o.long !== undefined && (o.required || o.optional) && arg.startsWith(`${o.long}=`)),
  );
}

/** Makes `command` read any argument that is not one of its own options as an operand; returns it. */
export function operandsMayStartWithDash(command: Command): Command {
  const parse = command.parseOptions.bind(command);
  command.parseOptions = (argv) => {
    const options: string[] = [];
    const operands: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (arg === '--') {
        operands.push(...argv.slice(i + 1));
        break;
      }
      const option = ownOption(command, arg);
      if (option === undefined && !HELP_FLAGS.has(arg)) {
        operands.push(arg);
        continue;
      }
      options.push(arg);
      // An option's value is its own, whatever it looks like (commander reports one that is missing).
      const valueFollows = option?.required === true && (arg === option.short || arg === option.long);
      if (valueFollows && i + 1 < argv.length) options.push(argv[++i]!);
    }
    return parse([...options, '--', ...operands]);
  };
  return command;
}
