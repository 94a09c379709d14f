/**
 * The in-code migration provider: migrations are compiled into the package (no directory scanning,
 * so bundling and `dist/` layout cannot lose one). Names sort in the order they run.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { DialectName } from '../schema.js';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_session_delivery.js';
import * as m0003 from './0003_cluster_state.js';
import * as m0005 from './0005_oauth_clients.js';
import * as m0006 from './0006_accounts_mail.js';
import * as m0007 from './0007_mfa.js';
import * as m0008 from './0008_dpop.js';
import * as m0004 from './0004_account_security.js';
import * as m0009 from './0009_token_renewals.js';
import * as m0010 from './0010_client_dpop.js';
import * as m0011 from './0011_refresh_rotations_index.js';
import * as m0012 from './0012_outbox_user.js';
import * as m0013 from './0013_one_totp_factor.js';
import * as m0014 from './0014_client_introspection.js';
import * as m0015 from './0015_device_cut_off.js';
import * as m0016 from './0016_one_open_invitation.js';
import * as m0017 from './0017_session_end_index.js';
import * as m0018 from './0018_refresh_token_markers.js';
import * as m0019 from './0019_login_throttle_generation.js';
import * as m0020 from './0020_login_throttle_settled.js';

interface DialectMigration {
  up(db: Kysely<unknown>, dialect: DialectName): Promise<void>;
  down(db: Kysely<unknown>, dialect: DialectName): Promise<void>;
}

const MIGRATIONS: Readonly<Record<string, DialectMigration>> = {
  '0001_initial': m0001,
  '0002_session_delivery': m0002,
  '0003_cluster_state': m0003,
  '0005_oauth_clients': m0005,
  '0006_accounts_mail': m0006,
  '0007_mfa': m0007,
  '0008_dpop': m0008,
  '0004_account_security': m0004,
  '0009_token_renewals': m0009,
  '0010_client_dpop': m0010,
  '0011_refresh_rotations_index': m0011,
  '0012_outbox_user': m0012,
  '0013_one_totp_factor': m0013,
  '0014_client_introspection': m0014,
  '0015_device_cut_off': m0015,
  '0016_one_open_invitation': m0016,
  '0017_session_end_index': m0017,
  '0018_refresh_token_markers': m0018,
  '0019_login_throttle_generation': m0019,
  '0020_login_throttle_settled': m0020,
};

/** A Kysely `MigrationProvider` with every migration, bound to the dialect they run on. */
export function migrationProvider(dialect: DialectName): MigrationProvider {
  const migrations: Record<string, Migration> = {};
  for (const [name, migration] of Object.entries(MIGRATIONS)) {
    migrations[name] = {
      up: (db) => migration.up(db as Kysely<unknown>, dialect),
      down: (db) => migration.down(db as Kysely<unknown>, dialect),
    };
  }
  return { getMigrations: () => Promise.resolve(migrations) };
}
