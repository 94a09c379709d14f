/**
 * `POST /api/email/change/confirm`: the link token from the new address sets it as the account's (verified) email,
 * once; the old address is told, and the account's other open links (verification, password reset, other email
 * changes) stop working. The link proves the new mailbox, not who follows it: anyone signed in may ask to move their
 * account to any address, so the confirmation also takes the account's password, unless the request carries a
 * session of that account (services/registrant-proof.ts) — else a squatter's account, the squatter's password and
 * sessions and all, would get the address of whoever clicked. Its checks count on the account's sign-in throttle and
 * are recorded as a sign-in's, with `via: "email_change"` (http/lock-refusal-events.ts). A dead link or a disabled
 * account is refused before any password is looked at; no refusal spends the link.
 */
import type { EmailChangeConfirmBody } from '@jot/contract';
import type { FastifyInstance } from 'fastify';

import { emailChangeConfirmBodySchema } from '../../http/account-schemas.js';
import { HttpError } from '../../http/errors.js';
import { lockRefusalEvents } from '../../http/lock-refusal-events.js';
import { authRateLimit } from '../../http/rate-limit.js';
import { publicUser, userSchema } from '../../http/views.js';
import { userDisabled } from '../../services/account-links.js';
import { emailError } from '../../services/accounts.js';
import {
  linkUsed,
  voidUserOneTimeTokens,
  type OneTimeClaims,
  type OneTimeTokens,
} from '../../services/one-time-tokens.js';
import { proveRegistrant } from '../../services/registrant-proof.js';
import { StoreError, type Store, type User } from '../../store/index.js';
import { linkFollowerProof } from '../link-follower-proof.js';

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
  const lockEvents = lockRefusalEvents(app.jot, config.rateLimitAuth.windowMs, 'email_change');
  app.post<{ Body: EmailChangeConfirmBody }>(
    '/api/email/change/confirm',
    {
      config: { rateLimit: authRateLimit(config) },
      schema: {
        tags: ['accounts'],
        summary:
          "Confirm a new email address with the link token and the account's password (or a session of the " +
          'account).',
        body: emailChangeConfirmBodySchema,
        response: {
          200: userSchema,
          400: { $ref: 'JotError#' },
          401: { $ref: 'JotError#' },
          403: { $ref: 'JotError#' },
          409: { $ref: 'JotError#' },
          429: { $ref: 'JotError#' },
        },
      },
    },
    async (request) => {
      const { token, password } = request.body;
      const claims = oneTimeTokens.verify('email_change', token);
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
      // A spent or voided link, and a disabled account, are refused before any password is looked at (or counted).
      await oneTimeTokens.checkUnused('email_change', claims);
      if (user.status !== 'active') throw userDisabled();
      const proven = await proveRegistrant(
        app.jot,
        user,
        request.ip,
        linkFollowerProof(request, password, lockEvents),
        'email_change',
      );
      const updated = await changeAddress(store, oneTimeTokens, user, {
        ...claims,
        new_email: claims.new_email,
      });
      if (updated === undefined) throw linkUsed();
      await events.record('email_changed', { userId: user.id, ip: request.ip, detail: { proof: proven } });
      await accountMail.sendEmailChanged(user.email, updated);
      return publicUser(updated);
    },
  );
}
