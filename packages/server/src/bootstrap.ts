/** Start-up chores: the bootstrap admin from JOT_ADMIN_EMAIL / JOT_ADMIN_PASSWORD, and loud development warnings. */
import type { FastifyInstance } from 'fastify';

import { ConfigError } from './config/index.js';
import { DomainError } from './services/errors.js';
import { checkPasswordStrength } from './services/password-policy.js';
import { grantAdminRole } from './services/user-admin.js';

/**
 * Creates the configured admin if no account has that email. An account the bootstrap did not create (someone
 * registered that address — perhaps in a look-alike spelling — before the operator set it) is made admin only if
 * JOT_ADMIN_PASSWORD is that account's password — checked again against the hash the grant's own transaction reads,
 * the row held, so a password changed after the first check is the one that counts; otherwise the server refuses to
 * start, saying why, and the account is left as it was. An account the bootstrap created earlier is left as admins
 * have since set it. The role is granted as `jot admin create` grants it (`grantAdminRole`): added to the roles the
 * account has at the change, with the address verified, `roles_changed` and `admin_created` recorded (`by`/`via`
 * `bootstrap`) and the revocation-feed entry written in the same transaction; of instances starting at once, one
 * grants it.
 *
 * @throws {ConfigError} when JOT_ADMIN_EMAIL names an existing account whose password is not JOT_ADMIN_PASSWORD, or
 *   when the account is to be created and JOT_ADMIN_PASSWORD fails the password policy.
 */
export async function ensureBootstrapAdmin(app: FastifyInstance): Promise<void> {
  const { config, store, passwords, accounts, events, revocations } = app.jot;
  if (config.adminEmail === undefined || config.adminPassword === undefined) return;
  let existing = await store.getUserByEmail(config.adminEmail);
  if (existing === undefined) {
    checkAdminPassword(config.adminPassword, config.adminEmail);
    try {
      const user = await accounts.create({
        email: config.adminEmail,
        password: config.adminPassword,
        name: 'Administrator',
        roles: ['admin'],
        via: 'bootstrap',
        // The operator configured this address; it needs no link to prove it.
        emailVerifiedAt: Date.now(),
      });
      app.log.info({ userId: user.id }, 'bootstrap admin created from JOT_ADMIN_EMAIL');
      return;
    } catch (err) {
      // Another instance starting at the same time created it first (the unique email decides): use that one.
      if (!(err instanceof DomainError && err.code === 'ERR_EMAIL_TAKEN')) throw err;
      existing = await store.getUserByEmail(config.adminEmail);
      if (existing === undefined) throw err;
    }
  }
  if (existing.createdVia === 'bootstrap' || existing.roles.includes('admin')) return;
  const { adminPassword } = config;
  const account = existing;
  if (!(await passwords.verify(account.passwordHash, adminPassword))) throw notItsPassword(account.email);
  // `jot admin create`'s own grant: admin added to the roles read in the change's transaction (a role given since
  // the read above is kept), the address verified, the events and the feed entry committed with it; an instance
  // starting at the same time that granted it first leaves nothing to do. The password is checked again against
  // the hash that transaction reads, the row held: a password changed since the check above is the one that counts.
  const { granted } = await grantAdminRole(
    { store, revocations, events },
    account.id,
    { by: 'bootstrap', ip: null },
    {
      via: 'bootstrap',
      verifyEmail: account.email,
      confirm: async (current) => {
        if (current.passwordHash === account.passwordHash) return;
        if (!(await passwords.verify(current.passwordHash, adminPassword)))
          throw notItsPassword(current.email);
      },
    },
  );
  if (granted) {
    app.log.info(
      { userId: account.id },
      'bootstrap admin granted the admin role (JOT_ADMIN_PASSWORD matched)',
    );
  }
}

/**
 * The password policy every new account's password meets (services/password-policy.ts), applied to the account
 * the bootstrap creates as a configuration error naming the setting: a common password used to stop the start with
 * a bare `ERR_PASSWORD_COMMON`, after the configuration had been accepted.
 */
function checkAdminPassword(password: string, email: string): void {
  try {
    checkPasswordStrength(password, email);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    throw new ConfigError(
      'JOT_ADMIN_PASSWORD',
      `JOT_ADMIN_PASSWORD is refused by the password policy every account's password meets (${err.code}): ` +
        `${err.message}`,
    );
  }
}

/** The refusal to promote an account whose password is not JOT_ADMIN_PASSWORD. */
function notItsPassword(email: string): ConfigError {
  return new ConfigError(
    'JOT_ADMIN_EMAIL',
    `JOT_ADMIN_EMAIL names an existing account (${email}) that this setting did not create, and ` +
      'JOT_ADMIN_PASSWORD is not its password: refusing to make it an admin. If the account is yours, set its ' +
      'password in JOT_ADMIN_PASSWORD; otherwise choose another address (or use "jot admin create").',
  );
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
  if (config.nodeEnv === 'production') warnAboutProductionRisks(app);
}

/**
 * Production settings that run but weaken the rate limits: trusting every proxy hop (a client then picks its own
 * address in X-Forwarded-For), and PostgreSQL — made for several instances — without Redis to share the counts.
 */
function warnAboutProductionRisks(app: FastifyInstance): void {
  const { config, store } = app.jot;
  if (config.trustProxy === true) {
    app.log.warn(
      'JOT_TRUST_PROXY=true trusts every X-Forwarded-For hop: the client address (and every per-address rate limit) ' +
        'is the leftmost entry, which a client can write itself unless your proxy overwrites the header. Set ' +
        'JOT_TRUST_PROXY to the number of proxies in front of Jot (e.g. 1) or to their addresses.',
    );
  }
  if (config.redisUrl === undefined && store.dialect === 'postgres') {
    app.log.warn(
      'PostgreSQL without JOT_REDIS_URL: the per-address, per-user, per-session, per-client, failure and per-mail ' +
        'rate limits are counted per instance, so N instances allow N times as much (the sign-in and MFA lockouts ' +
        'are in the database and hold across instances). Set JOT_REDIS_URL when running more than one instance.',
    );
  }
}

/**
 * Tells the operator of a server with no account yet how the first admin comes to be: outside production with open
 * registration, the first account registered (the web UI's "Create an account", or `POST /api/register`); else
 * `JOT_ADMIN_EMAIL` + `JOT_ADMIN_PASSWORD` or `jot admin create`. Silent once any account exists.
 */
export async function announceFirstAccount(app: FastifyInstance): Promise<void> {
  const { config, store } = app.jot;
  if ((await store.listUsers({ limit: 1 })).length > 0) return;
  const firstRegisteredIsAdmin =
    config.nodeEnv !== 'production' && config.adminEmail === undefined && config.registration === 'open';
  app.log.info(
    firstRegisteredIsAdmin
      ? `no accounts yet: the first account registered becomes an admin — open ${config.issuer}/ and choose ` +
          '"Create an account" (or POST /api/register)'
      : 'no accounts yet: create the first admin with JOT_ADMIN_EMAIL and JOT_ADMIN_PASSWORD, or with ' +
          '"jot admin create --email <address>"',
  );
}
