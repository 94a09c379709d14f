/**
 * `POST /api/email/change/confirm`: the link token from the new address sets it as the account's (verified) email,
 * once; the old address is told, and the account's other open links (verification, password reset, other email
 * changes) stop working. No sign-in needed: the link is the proof.
 */
import type { LinkTokenBody } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import { linkTokenBodySchema } from '../../http/account-schemas.js';
import { HttpError } from '../../http/errors.js';
import { authRateLimit } from '../../http/rate-limit.js';
import { publicUser, userSchema } from '../../http/views.js';
import { emailError } from '../../services/accounts.js';
import {
  linkUsed,
  voidUserOneTimeTokens,
  type OneTimeClaims,
  type OneTimeTokens,
} from '../../services/one-time-tokens.js';
import { StoreError, type Store, type User } from '../../store/index.js';

/**
 * Spends the link, changes the address and voids the account's other open links, together or not at all (a change
 * that fails leaves the link for a retry); undefined when the account changed since it was read (`user`).
 */
async function changeAddress(
  store: Store,
  oneTimeTokens: OneTimeTokens,
  user: User,
  claims: OneTimeClaims & { new_email: string },
): Promise<User | undefined> {
  try {
    return await store.transaction(async (tx) => {
      await oneTimeTokens.consume('email_change', claims, tx);
      // Only while the account is still as the route checked it: of two links confirmed at once, one wins.
      const changed = await tx.setVerifiedEmail(user.id, claims.new_email, undefined, {
        email: claims.email,
        credentialGeneration: user.credentialGeneration,
      });
      // Links mailed for the account as it was (a verification or reset link to the old address, another pending
      // change) die with this change, on every instance; this one is spent already.
      if (changed !== undefined) {
        await voidUserOneTimeTokens(tx, user.id, ['email_verification', 'password_reset', 'email_change']);
      }
      return changed;
    });
  } catch (err) {
    if (err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT') {
      throw new HttpError(409, 'ERR_EMAIL_TAKEN', 'another account took this address meanwhile');
    }
    // A link mailed before today's address rules to an address they refuse: 400 ERR_EMAIL_INVALID, not a 500.
    throw emailError(err);
  }
}

/** Registers `POST /api/email/change/confirm`. */
export function registerEmailChangeConfirmRoute(app: FastifyInstance): void {
  const { store, events, config, oneTimeTokens, accountMail } = app.jot;
  app.post<{ Body: LinkTokenBody }>(
    '/api/email/change/confirm',
    {
      config: { rateLimit: authRateLimit(config) },
      schema: {
        tags: ['accounts'],
        summary: 'Confirm a new email address with the link token.',
        body: linkTokenBodySchema,
        response: {
          200: userSchema,
          400: { $ref: 'JotError#' },
          403: { $ref: 'JotError#' },
          409: { $ref: 'JotError#' },
        },
      },
    },
    async (request) => {
      const claims = oneTimeTokens.verify('email_change', request.body.token);
      const user = await store.getUserById(claims.sub);
      // The link is for a change from the address the account still has, in the credential generation it was asked
      // in: another change of address, a password change or reset, signing out everywhere or a disable since kill
      // it (a link without the generation predates the rule and is refused too).
      if (
        user === undefined ||
        user.email !== claims.email ||
        typeof claims.new_email !== 'string' ||
        claims.cg !== String(user.credentialGeneration)
      ) {
        throw linkUsed();
      }
      if (user.status !== 'active') {
        throw new HttpError(403, 'ERR_USER_DISABLED', 'this account is disabled; contact an administrator');
      }
      const updated = await changeAddress(store, oneTimeTokens, user, {
        ...claims,
        new_email: claims.new_email,
      });
      if (updated === undefined) throw linkUsed();
      await events.record('email_changed', { userId: user.id, ip: request.ip });
      await accountMail.sendEmailChanged(user.email, updated);
      return publicUser(updated);
    },
  );
}
