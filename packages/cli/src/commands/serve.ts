/**
 * `jot serve`: the server, as `npm start` runs it: load and validate the configuration, create the server, create
 * the bootstrap admin if configured, listen, and shut down gracefully on SIGINT/SIGTERM (`shutdownOnSignal`:
 * `/readyz` turns 503, new connections are still served for `JOT_DRAIN_DELAY`, in-flight requests finish within
 * `JOT_DRAIN_TIMEOUT`, revocation streams are sent elsewhere, the store is closed; a second signal ends the delay).
 */
import type { Command } from 'commander';

import type { CliIo } from '../io.js';
import { jotServer } from '../lib/server.js';

async function serve(io: CliIo): Promise<void> {
  const {
    createServer,
    ensureBootstrapAdmin,
    loadConfig,
    REDACTED_PATHS,
    shutdownOnSignal,
    warnAboutDevelopmentDefaults,
  } = await jotServer();
  const config = loadConfig({ env: io.env, cwd: io.cwd });
  const app = await createServer({
    config,
    logger: {
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      stream: { write: (line: string) => void io.stdout.write(line) },
    },
  });
  try {
    warnAboutDevelopmentDefaults(app);
    await ensureBootstrapAdmin(app);
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app.close();
    throw err;
  }
  app.log.info(`Jot is serving ${config.issuer} (JWKS at ${config.issuer}/.well-known/jwks.json)`);
  await shutdownOnSignal(app, io.signals);
}

/** Registers `jot serve`. */
export function registerServe(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('start the Jot server (configured like `npm start`: JOT_* variables, JOT_CONFIG)')
    .addHelpText(
      'after',
      '\nExample:\n  JOT_KEK="$(jot kek)" JOT_ISSUER=https://auth.example.com NODE_ENV=production jot serve',
    )
    .action(() => serve(io));
}
