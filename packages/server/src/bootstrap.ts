/** Start-up chores: the bootstrap admin from JOT_ADMIN_EMAIL / JOT_ADMIN_PASSWORD, and loud development warnings. */
import type { FastifyInstance } from 'fastify';

import { StoreError } from './store/index.js';

/** Creates the configured admin if no account has that email; makes an existing one admin. */
export async function ensureBootstrapAdmin(app: FastifyInstance): Promise<void> {
  const { config, store, passwords } = app.jot;
  if (config.adminEmail === undefined || config.adminPassword === undefined) return;
  let existing = await store.getUserByEmail(config.adminEmail);
  if (existing === undefined) {
    const passwordHash = await passwords.hash(config.adminPassword);
    try {
      const user = await store.createUser({
        email: config.adminEmail,
        passwordHash,
        name: 'Administrator',
        roles: ['admin'],
        // The operator configured this address; it needs no link to prove it.
        emailVerifiedAt: Date.now(),
      });
      app.log.info({ userId: user.id }, 'bootstrap admin created from JOT_ADMIN_EMAIL');
      return;
    } catch (err) {
      // Another instance starting at the same time created it first (the unique email decides): use that one.
      if (!(err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT')) throw err;
      existing = await store.getUserByEmail(config.adminEmail);
      if (existing === undefined) throw err;
    }
  }
  if (!existing.roles.includes('admin')) {
    if (existing.emailVerifiedAt === null) await store.markEmailVerified(existing.id, existing.email);
    await store.setRoles(existing.id, [...existing.roles, 'admin']);
    app.log.info({ userId: existing.id }, 'bootstrap admin granted the admin role');
  }
}

/** Warns about settings that are fine on a laptop and dangerous anywhere else. */
export function warnAboutDevelopmentDefaults(app: FastifyInstance): void {
  const { config } = app.jot;
  if (config.kekGenerated) {
    app.log.warn(
      `DEVELOPMENT ONLY: signing keys are encrypted with a generated key-encryption key stored in ${config.dataDir}/dev-kek. ` +
        'Set JOT_KEK (32 random bytes, base64url) and keep it outside the data directory in any real deployment.',
    );
  }
  if (config.nodeEnv !== 'production') {
    app.log.warn(
      `running in ${config.nodeEnv} mode; set NODE_ENV=production for deployments (it requires JOT_ISSUER and JOT_KEK)`,
    );
  }
  if (config.revocationSecret === undefined) {
    app.log.info('JOT_REVOCATION_SECRET is not set: only admin tokens can read the revocation feed');
  }
}
