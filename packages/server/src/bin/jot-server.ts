#!/usr/bin/env node
/**
 * `jot-server` / `npm start`: load the configuration, open the store, serve until SIGINT/SIGTERM, then shut down
 * gracefully (`shutdownOnSignal`) and exit 0. A second signal during the drain delay ends the delay; one after it
 * ends the process at once.
 */
import { announceFirstAccount, ensureBootstrapAdmin, warnAboutDevelopmentDefaults } from '../bootstrap.js';
import { createServer } from '../app.js';
import { shutdownOnSignal } from '../shutdown-on-signal.js';
import { ConfigError, loadConfig } from '../config/index.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`jot-server: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const app = await createServer({ config });
  warnAboutDevelopmentDefaults(app);
  try {
    await ensureBootstrapAdmin(app);
  } catch (err) {
    await app.close();
    if (err instanceof ConfigError) {
      process.stderr.write(`jot-server: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // The address actually bound (a port of 0 or a host name resolved), which the issuer URL behind a proxy does not say.
  const listening = await app.listen({ port: config.port, host: config.host });
  // Before the "serving" line, so that line means it has been said, or that there was nothing to say.
  await announceFirstAccount(app);
  app.log.info(
    { listening },
    `Jot is serving ${config.issuer} on ${listening} (JWKS at ${config.issuer}/.well-known/jwks.json)`,
  );
  // Never rejects, and resolves within JOT_DRAIN_DELAY plus JOT_DRAIN_TIMEOUT plus about a second.
  void shutdownOnSignal(app).then(() => process.exit(0));
}

main().catch((err: unknown) => {
  // The code first when there is one (`ERR_STORE_REFUSED: the database refused the connection: …`), as the CLI prints it.
  const message = err instanceof Error ? err.message : String(err);
  const code =
    err instanceof Error && 'code' in err && typeof err.code === 'string' && !message.includes(err.code)
      ? `${err.code}: `
      : '';
  process.stderr.write(`jot-server: failed to start: ${code}${message}\n`);
  process.exit(1);
});
