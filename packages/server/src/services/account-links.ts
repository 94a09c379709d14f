/**
 * What a followed mail link does, once its one-time token is checked: email verification marks the address
 * verified (only while it is still the account's address; the first verification of a never-verified address only
 * for whoever registered it, registrant-proof.ts); a password reset sets the new password (only while the address it
 * went to and the password it was issued for are still the account's: compare-and-set) and ends every session and
 * token of the account; a reset of an account whose address was unverified verifies it and removes its second
 * factors and recovery codes (whoever registered the address may have added them). Both open the link the same way:
 * verify the token, load its account, check the link still applies, consume it.
 */
import type { Store, User } from '../store/index.js';
import type { AccountMail } from './account-mail.js';
import { DomainError } from './errors.js';
import type { LoginThrottleService } from './login-throttle.js';
import {
  linkUsed,
  voidUserOneTimeTokens,
  type OneTimeClaims,
  type OneTimeTokens,
} from './one-time-tokens.js';
import { checkPasswordStrength } from './password-policy.js';
import type { PasswordHasher } from './passwords.js';
import { proveRegistrant, type LinkFollowerProof } from './registrant-proof.js';
import type { RevocationService } from './revocation.js';
import type { SecurityEvents } from './security-events.js';

/** What the link confirmations use. */
export interface AccountLinkDeps {
  store: Store;
  oneTimeTokens: OneTimeTokens;
  events: SecurityEvents;
  passwords: PasswordHasher;
  revocations: RevocationService;
  accountMail: AccountMail;
}

/**
 * Checks a link token and loads its account; `applies` says whether the link still applies to it (else the link is
 * used up). The caller consumes the token once its own checks pass.
 */
async function openLink(
  deps: Pick<AccountLinkDeps, 'store' | 'oneTimeTokens'>,
  kind: 'email_verification' | 'password_reset',
  token: string,
  applies: (user: User, claims: OneTimeClaims) => boolean,
): Promise<{ user: User; claims: OneTimeClaims }> {
  const claims = deps.oneTimeTokens.verify(kind, token);
  const user = await deps.store.getUserById(claims.sub);
  if (user === undefined || !applies(user, claims)) throw linkUsed();
  return { user, claims };
}

/** 403 `ERR_USER_DISABLED`: a link of a disabled account does nothing. */
export const userDisabled = (): DomainError =>
  new DomainError('forbidden', 'ERR_USER_DISABLED', 'this account is disabled; contact an administrator');

/**
 * Follows a verification link: the account with its address marked verified. The link is checked before any
 * proof is looked at — valid, unused (`checkUnused`: a spent or voided link is `ERR_LINK_USED` before a password is
 * evaluated or counted), its account active (403 `ERR_USER_DISABLED`) — and a link refused for the proof it lacks
 * (no password, a wrong one, the account's sign-in locked) is not spent.
 */
export async function confirmEmailVerification(
  deps: Pick<AccountLinkDeps, 'store' | 'oneTimeTokens' | 'events' | 'passwords'> & {
    loginThrottle: LoginThrottleService;
  },
  token: string,
  ip: string,
  proof: LinkFollowerProof,
): Promise<User> {
  const { user, claims } = await openLink(
    deps,
    'email_verification',
    token,
    (candidate, link) => candidate.email === link.email,
  );
  await deps.oneTimeTokens.checkUnused('email_verification', claims);
  if (user.status !== 'active') throw userDisabled();
  const proven =
    user.emailVerifiedAt === null
      ? await proveRegistrant(deps, user, ip, proof, 'email_verification')
      : undefined;
  // Spent, and the address marked verified, in one transaction: the account's other verification links (older
  // mails to this address) are spent with it, on every instance at once.
  const updated = await deps.store.transaction(async (tx) => {
    await deps.oneTimeTokens.consume('email_verification', claims, tx);
    const verified = await tx.markEmailVerified(user.id, claims.email);
    if (verified !== undefined) await voidUserOneTimeTokens(tx, user.id, ['email_verification']);
    return verified;
  });
  if (updated === undefined) throw linkUsed();
  await deps.events.record('email_verified', {
    userId: user.id,
    ip,
    ...(proven !== undefined && { detail: { proof: proven } }),
  });
  return updated;
}

/** Follows a password-reset link with the new password: the account after the reset. */
export async function resetPasswordWithLink(
  deps: AccountLinkDeps,
  token: string,
  newPassword: string,
  ip: string,
): Promise<User> {
  const { user, claims } = await openLink(
    deps,
    'password_reset',
    token,
    // A password changed since the link was sent (by a reset or otherwise) kills the link, and so does a change of
    // address: the mailbox it went to no longer speaks for the account (a former employer's, say).
    (candidate, link) =>
      candidate.email === link.email && deps.oneTimeTokens.matchesCredential(link, candidate.passwordHash),
  );
  if (user.status !== 'active') throw userDisabled();
  checkPasswordStrength(newPassword, user.email);
  const hash = await deps.passwords.hash(newPassword);
  // The link is spent, and the new hash committed with the end of every session, together or not at all: a reset
  // that fails (503) leaves the link for the retry.
  const reset = await deps.revocations.changeAndRevokeAll(user.id, 'password_reset', async (tx) => {
    await deps.oneTimeTokens.consume('password_reset', claims, tx);
    // Compared with the address too: an email change confirmed meanwhile (on any instance) kills the link, and the
    // cut-off below moves the credential generation, which kills a pending email-change link in turn.
    const replaced = await tx.replacePasswordHash(
      user.id,
      { passwordHash: user.passwordHash, email: user.email },
      hash,
    );
    if (replaced === undefined) return undefined;
    // Every other open link was mailed for the account as it was (the old password, the address unproven): spent.
    await voidUserOneTimeTokens(tx, user.id, ['email_verification', 'password_reset', 'email_change']);
    if (replaced.emailVerifiedAt !== null) return { user: replaced, factorsRemoved: 0 };
    // Following the link proved the mailbox, as a verification link would. Until now the account was whoever
    // registered the address: a factor they added is not the mailbox owner's, so it goes (pre-account hijacking,
    // see enrolment-gate.ts).
    const verified = (await tx.markEmailVerified(user.id, user.email)) ?? replaced;
    return { user: verified, factorsRemoved: (await tx.mfa.removeFactors(user.id)) ?? 0 };
  });
  if (reset === undefined) throw linkUsed();
  const { user: updated, factorsRemoved } = reset;
  await deps.events.record('password_reset', { userId: user.id, ip });
  if (factorsRemoved > 0) {
    await deps.events.record('mfa_reset', {
      userId: user.id,
      ip,
      detail: { by: 'password_reset', removed: factorsRemoved },
    });
  }
  await deps.accountMail.sendPasswordResetDone(updated, { factorsRemoved: factorsRemoved > 0 });
  return updated;
}
