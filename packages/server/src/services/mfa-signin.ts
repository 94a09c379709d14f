/**
 * The two-step sign-in and the second-factor step-up. After a correct password, a user with a factor gets an MFA
 * token instead of tokens; the second step exchanges it plus a proof. Guessing is bounded twice, and both bounds
 * are counted atomically before the proof is checked: at most `MFA_TOKEN_ATTEMPTS` per MFA token, and
 * `JOT_MFA_ACCOUNT_LIMIT` per account across all tokens and step-ups (so signing in again does not reset it).
 */
import { isSessionDelivery, type MfaRequiredBody } from '@jot/contract';

import type { Clock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { SessionDelivery, Store, User } from '../store/index.js';
import { ACR, type MfaProof, type MfaService, type MfaVerification } from './mfa.js';
import { MFA_TOKEN_ATTEMPTS, mfaTokenInvalid, type MfaTokens } from './mfa-token.js';
import type { SecurityEvents } from './security-events.js';
import { DomainError, isDomainError } from './errors.js';

/** The body of the `mfa_required` answer to the password step (HTTP 403, as OAuth servers commonly do). */
export type { MfaRequiredBody };

/** A completed second step. */
export interface MfaSignInResult {
  user: User;
  amr: string[];
  acr: string;
  delivery: SessionDelivery | undefined;
  /** The DPoP key the sign-in is bound to (the password step's, proved again at this step), if any. */
  dpopJkt: string | undefined;
  /**
   * For a sign-in that fails after all (the session could not be started, e.g. the account changed): gives back what
   * the proof spent (a recovery code), records the refusal, and returns `err` for the caller to throw.
   */
  refused(err: unknown): Promise<unknown>;
}

/** The two-step sign-in. */
export interface MfaSignIn {
  /**
   * After a correct password: the `mfa_required` body when the user has a factor, else undefined. `dpopJkt` is the
   * thumbprint of the password step's DPoP proof: the MFA token's record keeps it for the second step.
   */
  challenge(
    user: User,
    delivery: SessionDelivery | undefined,
    dpopJkt?: string,
  ): Promise<MfaRequiredBody | undefined>;
  /** The user an MFA token is for, after checking it (for the passkey options of the second step). */
  userOf(mfaToken: string): Promise<string>;
  /**
   * Second step: the MFA token and a proof for the token response's facts. `dpopJkt` is the thumbprint of this
   * request's (already checked) DPoP proof: it must be the password step's key, or absent when that step had none.
   */
  complete(mfaToken: string, proof: MfaProof, ip: string, dpopJkt?: string): Promise<MfaSignInResult>;
  /** A fresh second factor for a signed-in user (RFC 9470 step-up); returns the method's `amr`. */
  stepUp(userId: string, proof: MfaProof, ip: string): Promise<string[]>;
}

/** The `amr` of a completed two-factor authentication (RFC 8176 `mfa` marks more than one factor). */
export function mfaAmr(first: readonly string[], method: readonly string[]): string[] {
  return [...new Set([...first.filter((m) => m !== 'mfa'), ...method, 'mfa'])];
}

/** What the sign-in works with. */
interface SignInDeps {
  store: Store;
  mfa: MfaService;
  tokens: MfaTokens;
  events: SecurityEvents;
  config: Config;
  clock: Clock;
}

/**
 * The 429 once an account has used up its second-factor attempts (recorded as `mfa_locked`), with the time until
 * the window that holds them ends — not the whole window, which would keep a user out longer than the lock does.
 */
async function locked(
  deps: SignInDeps,
  attempt: { userId: string; ip: string },
  window: { count: number; windowStart: number },
): Promise<DomainError> {
  const endsInMs = window.windowStart + deps.config.mfaAccountLimit.windowMs - deps.clock();
  const seconds = Math.max(1, Math.ceil(endsInMs / 1000));
  await deps.events.record('mfa_locked', { ...attempt, detail: { attempts: window.count } });
  return new DomainError(
    'throttled',
    'ERR_MFA_LOCKED',
    `too many second-factor attempts on this account; try again in ${seconds} s`,
    { retryAfterSeconds: seconds },
  );
}

/** Counts the attempt against the account, runs the check, and records a failure. */
async function guarded(
  deps: SignInDeps,
  attempt: { userId: string; ip: string; attemptsLeft?: number },
  check: () => Promise<MfaVerification>,
): Promise<MfaVerification> {
  const { store, events, config } = deps;
  const { userId, ip, attemptsLeft } = attempt;
  const window = await store.mfa.countAccountAttempt(userId, config.mfaAccountLimit.windowMs);
  if (window.count > config.mfaAccountLimit.max) throw await locked(deps, { userId, ip }, window);
  try {
    const verified = await check();
    await store.mfa.refundAccountAttempt(userId);
    return verified;
  } catch (err) {
    if (isDomainError(err, 'grant')) {
      await events.record('mfa_failed', { userId, ip, detail: { code: err.code } });
      if (err.code === 'ERR_MFA_CODE_INVALID' && attemptsLeft !== undefined) {
        throw new DomainError(
          'grant',
          err.code,
          `${err.message} (${attemptsLeft} attempts left with this MFA token)`,
        );
      }
    }
    throw err;
  }
}

/**
 * A proof was accepted but the sign-in refused (its MFA token used meanwhile by a concurrent request, the account
 * changed, the session not started): what the proof spent is given back (a recovery code; if giving it back fails,
 * it stays spent — fail closed), the refusal is recorded as `mfa_failed` with `proof_accepted`, and `err` is returned
 * for the caller to throw. Without the record, a stolen code tried with a stale MFA token would be confirmed valid
 * silently.
 */
async function refusedAfterProof(
  deps: SignInDeps,
  verified: MfaVerification,
  attempt: { userId: string; ip: string },
  err: unknown,
): Promise<unknown> {
  await verified.undo().catch(() => undefined);
  const code = isDomainError(err) ? err.code : 'ERR_INTERNAL';
  await deps.events.record('mfa_failed', { ...attempt, detail: { code, proof_accepted: true } });
  return err;
}

async function challenge(
  deps: SignInDeps,
  user: User,
  delivery: SessionDelivery | undefined,
  dpopJkt: string | undefined,
): Promise<MfaRequiredBody | undefined> {
  const methods = await deps.mfa.methods(user.id);
  if (methods.length === 0) return undefined;
  // The credential generation read before the password check travels with the MFA token: a password change,
  // logout-everywhere or disable before the second step ends this sign-in (services/sessions/start.ts). So does the
  // password step's DPoP key: the session will be bound to it, and the second step must prove it again.
  const { token, expiresIn } = await deps.tokens.issue(user.id, {
    ...(delivery === undefined ? {} : { delivery }),
    ...(dpopJkt === undefined ? {} : { dpopJkt }),
    generation: user.credentialGeneration,
  });
  return {
    error: 'mfa_required',
    error_description: 'the password is correct; complete the sign-in with a second factor',
    code: 'ERR_MFA_REQUIRED',
    mfa_token: token,
    mfa_token_expires_in: expiresIn,
    mfa_methods: methods,
  };
}

/** The user to sign in: still active, and with the credentials the MFA token was issued under. */
async function signingInUser(store: Store, userId: string, generation: unknown): Promise<User> {
  const user = await store.getUserById(userId);
  if (user === undefined || user.status !== 'active') {
    throw new DomainError(
      'forbidden',
      'ERR_USER_DISABLED',
      'this account is disabled; contact an administrator',
    );
  }
  if (generation !== user.credentialGeneration) {
    throw new DomainError(
      'grant',
      'ERR_CREDENTIALS_CHANGED',
      'the password or the account changed while signing in; sign in again',
    );
  }
  return user;
}

/**
 * The second step's DPoP key against the one the password step proved (`started`, from the MFA token's record): the
 * session is bound to the key the sign-in started with, so the second step must prove that same key — and a sign-in
 * started without DPoP takes no proof (a proof with an unbound token is a key mismatch, as at protected routes).
 * Otherwise whoever holds an MFA token taken from a DPoP client could finish the sign-in with their own key, or
 * without one for a bearer session. Checked before the second factor, so a refusal spends no code.
 */
function checkSameKey(started: unknown, proofJkt: string | undefined): string | undefined {
  const bound = typeof started === 'string' ? started : undefined;
  if (bound === proofJkt) return bound;
  if (proofJkt === undefined) {
    throw new DomainError(
      'invalid',
      'ERR_DPOP_REQUIRED',
      'this sign-in was started with a DPoP key: send a DPoP proof made with it',
    );
  }
  throw new DomainError(
    'invalid',
    'ERR_DPOP_KEY_MISMATCH',
    bound === undefined
      ? 'this sign-in was started without DPoP: send the second step without a DPoP proof, or sign in again with one'
      : 'this sign-in was started with another DPoP key: send a DPoP proof made with it',
  );
}

async function complete(
  deps: SignInDeps,
  mfaToken: string,
  proof: MfaProof,
  request: { ip: string; dpopJkt: string | undefined },
): Promise<MfaSignInResult> {
  const { ip } = request;
  const { store, tokens } = deps;
  const claims = tokens.verify(mfaToken);
  const id = tokens.idHash(claims.jti);
  const record = await store.mfa.takeAttempt(id, 'mfa_token', MFA_TOKEN_ATTEMPTS);
  if (record === undefined || record.userId !== claims.sub) {
    throw mfaTokenInvalid('has expired, was already used, or has no attempts left');
  }
  const dpopJkt = checkSameKey(record.data.dpopJkt, request.dpopJkt);
  const verified = await guarded(
    deps,
    { userId: claims.sub, ip, attemptsLeft: MFA_TOKEN_ATTEMPTS - record.attempts },
    () => deps.mfa.verify(claims.sub, proof),
  );
  const attempt = { userId: claims.sub, ip };
  // A concurrent request with the same MFA token (and another proof) signed in first, or the account changed: this
  // proof signed nothing in, so a recovery code it used is given back rather than lost.
  if ((await store.mfa.consumeChallenge(id, 'mfa_token')) === undefined) {
    throw await refusedAfterProof(deps, verified, attempt, mfaTokenInvalid('was already used'));
  }
  const user = await signingInUser(store, claims.sub, record.data.generation).catch(async (err: unknown) => {
    throw await refusedAfterProof(deps, verified, attempt, err);
  });
  const delivery = record.data.delivery;
  return {
    user,
    amr: mfaAmr(claims.amr, verified.amr),
    acr: ACR.multi,
    delivery: isSessionDelivery(delivery) ? delivery : undefined,
    dpopJkt,
    refused: (err) => refusedAfterProof(deps, verified, attempt, err),
  };
}

/** Builds the two-step sign-in. */
export function createMfaSignIn(deps: SignInDeps): MfaSignIn {
  return {
    challenge: (user, delivery, dpopJkt) => challenge(deps, user, delivery, dpopJkt),
    userOf: async (mfaToken) => deps.tokens.verify(mfaToken).sub,
    complete: (mfaToken, proof, ip, dpopJkt) => complete(deps, mfaToken, proof, { ip, dpopJkt }),
    stepUp: async (userId, proof, ip) =>
      (await guarded(deps, { userId, ip }, () => deps.mfa.verify(userId, proof))).amr,
  };
}
