/**
 * `jot redis deployment-id`: the id the deployment's servers write into the Redis revocation mirror's completeness
 * marker — derived one-way from `JOT_KEK` and `JOT_ISSUER`, so it is computed here offline from the configuration
 * the server would load — for strict verifiers' `revocation.deployment`. The KEK itself is never printed.
 */
import type { Command } from 'commander';

import { writeJson, writeLine, type CliIo } from '../io.js';
import { jotServer } from '../lib/server.js';

/** Registers `jot redis` and its subcommands. */
export function registerRedis(program: Command, io: CliIo): void {
  const redis = program.command('redis').description("the server's Redis revocation mirror");
  redis
    .command('deployment-id')
    .description(
      'print the deployment id the servers write into the Redis mirror (for revocation.deployment of @jot/verify)',
    )
    .option('--json', 'print {"deployment": "…", "namespace": "…", "issuer": "…"}')
    .addHelpText(
      'after',
      [
        '',
        'Derived from JOT_KEK and JOT_ISSUER (read as `jot serve` does; no database or Redis is contacted): every',
        'instance of a deployment has the same id, and another KEK or issuer is another id.',
        '',
        'Examples:',
        '  NODE_ENV=production JOT_ISSUER=https://auth.example.com JOT_KEK="$(cat /run/secrets/jot-kek)" jot redis deployment-id',
        '  jot redis deployment-id --json',
      ].join('\n'),
    )
    .action(async (options: { json?: boolean }) => {
      const server = await jotServer();
      const config = server.loadConfig({ env: io.env, cwd: io.cwd });
      const deployment = server.deploymentId(config.kek, config.issuer);
      if (options.json === true) {
        writeJson(io.stdout, { deployment, namespace: config.redisNamespace, issuer: config.issuer });
      } else {
        writeLine(io.stdout, deployment);
      }
      if (config.kekGenerated) {
        writeLine(
          io.stderr,
          `warning: this is the id of the development KEK in ${config.dataDir}/dev-kek; set JOT_KEK as the servers do`,
        );
      }
    });
}
