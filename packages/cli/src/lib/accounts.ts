/**
 * The server's own account services for `jot admin`: the configured store (SQLite or Postgres, migrated on open)
 * and the argon2id hasher with the configured cost, so the CLI hashes exactly as the server does. Nothing else of
 * the server starts: no keys are created, no Redis is needed.
 */
import { createPasswordHasher, openStore, type Config, type Store } from '@jot/server';

/** What `jot admin` needs, and how to let go of it. */
export interface Accounts {
  readonly store: Store;
  hashPassword(password: string): Promise<string>;
  close(): Promise<void>;
}

/** Opens the configured store and hasher. Call `close()` when done. */
export async function openAccounts(config: Config): Promise<Accounts> {
  const store = await openStore({ url: config.databaseUrl, dataDir: config.dataDir });
  const passwords = await createPasswordHasher({
    memoryKiB: config.argon2MemoryKib,
    timeCost: config.argon2TimeCost,
    parallelism: config.argon2Parallelism,
  });
  return {
    store,
    hashPassword: (password) => passwords.hash(password),
    close: () => store.close(),
  };
}
