#!/usr/bin/env node
/** `jot-server` / `npm start`: load the configuration, open the store, serve until SIGINT/SIGTERM. */
import { ensureBootstrapAdmin, warnAboutDevelopmentDefaults } from '../bootstrap.js';
import { createServer } from '../app.js';
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
  await ensureBootstrapAdmin(app);
  await app.listen({ port: config.port, host: config.host });
  app.log.info(`Jot is serving ${config.issuer} (JWKS at ${config.issuer}/.well-known/jwks.json)`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.log.info(`${signal}: shutting down`);
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`jot-server: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
