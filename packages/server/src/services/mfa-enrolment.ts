/**
 * What the signed-in user's second-factor routes do beyond the factor services: the account must still exist, a new
 * factor is a security event, and a proof of a second factor (the first TOTP code of an enrolment, a step-up)
 * reissues the session's tokens at the multi-factor level with a fresh `auth_time`. A proof that does not verify is
 * refused as `forbidden` (403) with its own code: the caller's access token is fine, so the refusal must not read as
 * a token error (401) that a client answers by refreshing and sending the proof again.
 */
import type { RegistrationResponseJSON } from '@simplewebauthn/server';

import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { MfaFactor, Store, User } from '../store/index.js';
import { mayEnrol } from './enrolment-gate.js';
import { DomainError, isDomainError } from './errors.js';
import { ACR, type MfaProof } from './mfa.js';
import type { MfaServices } from './mfa-services.js';
import { mfaAmr } from './mfa-signin.js';
import type { SecurityEvents } from './security-events.js';
import type { SessionService, TokenPair } from './sessions.js';

/** What the enrolment and step-up steps use. */
export interface MfaEnrolmentDeps {
  store: Store;
  sessions: SessionService;
  events: SecurityEvents;
  clock: Clock;
  mfa: MfaServices;
  config: Pick<Config, 'emailVerification'>;
}

/** The signed-in caller: user, session, address. */
export interface MfaCaller {
  userId: string;
  sessionId: string;
  ip: string;
}

/** The caller's account; not found once it was deleted. */
export async function existingUser(store: Store, id: string): Promise<User> {
  const user = await store.getUserById(id);
  if (user === undefined) throw new DomainError('not_found', 'ERR_NOT_FOUND', 'the account no longer exists');
  return user;
}

/** The caller's account, for a step that adds a factor: it must exist and (see enrolment-gate.ts) have a proven address. */
export async function enrollingUser(
  deps: Pick<MfaEnrolmentDeps, 'store' | 'config'>,
  id: string,
): Promise<User> {
  return mayEnrol(deps.config, await existingUser(deps.store, id));
}

async function recordEnrolment(
  deps: MfaEnrolmentDeps,
  caller: MfaCaller,
  kind: 'totp' | 'webauthn',
): Promise<void> {
  await deps.events.record('mfa_enrolled', {
    userId: caller.userId,
    sessionId: caller.sessionId,
    ip: caller.ip,
    detail: { kind },
  });
}

/**
 * Runs a check of a signed-in caller's proof (a TOTP code, a recovery code, a passkey): a proof it refuses as a grant
 * (`ERR_MFA_CODE_INVALID`, `ERR_PASSKEY_INVALID` — 401 at the sign-in's second step, which has no access token) is
 * a refusal of an authenticated caller here, 403 with the same code and message. Only the check is wrapped: a
 * session that ended meanwhile (when the tokens are reissued) stays the grant error it is.
 */
async function checkedProof<T>(check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    if (isDomainError(err, 'grant'))
      throw new DomainError('forbidden', err.code, err.message, { cause: err });
    throw err;
  }
}

/** New tokens of the caller's session at the multi-factor level, `method` added to its `amr`. */
async function reissueMultiFactor(
  deps: MfaEnrolmentDeps,
  sessionId: string,
  method: readonly string[],
): Promise<TokenPair> {
  const session = await deps.store.getSession(sessionId);
  return deps.sessions.reissue(sessionId, {
    authTime: deps.clock(),
    amr: mfaAmr(session?.amr ?? ['pwd'], method),
    acr: ACR.multi,
  });
}

/** Finishes a TOTP enrolment with its first code: the recovery codes (the first factor's) and the new tokens. */
export async function confirmTotpEnrolment(
  deps: MfaEnrolmentDeps,
  caller: MfaCaller,
  factorId: string,
  code: string,
): Promise<{ codes: string[] | undefined; pair: TokenPair }> {
  const user = await enrollingUser(deps, caller.userId);
  const codes = await checkedProof(() => deps.mfa.factors.confirmTotp(user, factorId, code));
  await recordEnrolment(deps, { ...caller, userId: user.id }, 'totp');
  // The first code proves the factor: this session now stands at the multi-factor level.
  return { codes, pair: await reissueMultiFactor(deps, caller.sessionId, ['otp']) };
}

/** Stores a new passkey; the account's first factor also gets recovery codes. */
export async function registerPasskey(
  deps: MfaEnrolmentDeps,
  caller: MfaCaller,
  credential: RegistrationResponseJSON,
  name: string,
): Promise<{ factor: MfaFactor; codes: string[] | undefined }> {
  const user = await enrollingUser(deps, caller.userId);
  const factor = await checkedProof(() => deps.mfa.passkeys.register(user, credential, name));
  const codes = await deps.mfa.factors.firstRecoveryCodes(user.id);
  await recordEnrolment(deps, { ...caller, userId: user.id }, 'webauthn');
  return { factor, codes };
}

/** Step-up (RFC 9470) with a second factor: new tokens with a fresh `auth_time` and `acr` aal2. */
export async function stepUpWithSecondFactor(
  deps: MfaEnrolmentDeps,
  caller: MfaCaller,
  proof: MfaProof,
): Promise<TokenPair> {
  const method = await checkedProof(() => deps.mfa.signIn.stepUp(caller.userId, proof, caller.ip));
  await deps.events.record('mfa_step_up', {
    userId: caller.userId,
    sessionId: caller.sessionId,
    ip: caller.ip,
  });
  return reissueMultiFactor(deps, caller.sessionId, method);
}
