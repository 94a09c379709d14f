/**
 * `jot serve`: the server, as `npm start` runs it: load and validate the configuration, create the server, create
 * the bootstrap admin if configured, listen, and shut down gracefully on SIGINT/SIGTERM (`shutdownGracefully`:
 * `/readyz` turns 503, in-flight requests finish within `JOT_DRAIN_TIMEOUT`, revocation streams are sent elsewhere,
 * the store is closed).
 */
import type { Command } from 'commander';
import {
  createServer,
  ensureBootstrapAdmin,
  loadConfig,
  REDACTED_PATHS,
  shutdownGracefully,
  warnAboutDevelopmentDefaults,
} from '@jot/server';

import type { CliIo, SignalSource } from '../io.js';

/** Resolves with the first SIGINT/SIGTERM; a second one meets Node's default handler and ends the process. */
function nextSignal(signals: SignalSource): Promise<'SIGINT' | 'SIGTERM'> {
  return new Promise((resolve) => {
    const done = (signal: 'SIGINT' | 'SIGTERM'): void => {
      signals.off('SIGINT', onInt);
      signals.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    signals.once('SIGINT', onInt);
    signals.once('SIGTERM', onTerm);
  });
}

async function serve(io: CliIo): Promise<void> {
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
  const signal = await nextSignal(io.signals);
  app.log.info(`${signal}: shutting down`);
  await shutdownGracefully(app);
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
