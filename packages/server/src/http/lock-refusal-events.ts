/**
 * The security events of every password check the account's sign-in throttle guards (services/login-throttle.ts):
 * a sign-in (`POST /api/login`), a step-up re-authentication (`POST /api/reauth`), a password change
 * (`POST /api/password`) and the password a link takes from whoever follows it (a first email verification,
 * `POST /api/email/verify`; an email-change confirmation, `POST /api/email/change/confirm`) record the same ones, so
 * an account's guesses show up alike whichever route they came through — `login_failed` for a wrong password,
 * `account_locked` for each lock its failure set, and `rate_limited` (limit `login_account`, or `login_device` for a
 * device credential's lock) when the lock refuses a check, once per lock, address and account in a window on this
 * instance (http/event-throttle.ts: a locked account hammered is not a row per attempt). The other checks say which
 * they were in `detail.via` (`reauth`, `password_change`, `email_verification`, `email_change`); a sign-in's events
 * carry no `via`. Ids, addresses and durations only: never the password. */
import type { LoginLockedError, LoginLocks } from '../services/login-throttle.js';
import type { Metrics, PasswordCheckSite } from '../services/metrics.js';
import type { PasswordCheckReport } from '../services/password-change.js';
import type { SecurityEvents } from '../services/security-events.js';
import { addressKey } from './address-key.js';
import { eventThrottle } from './event-throttle.js';

/**
 * Which password check outside sign-in an event came from (`detail.via`): a signed-in one, or one a link takes — the
 * first verification of an address (`POST /api/email/verify`) or an email-change confirmation
 * (`POST /api/email/change/confirm`), services/registrant-proof.ts.
 */
export type PasswordCheckVia = 'reauth' | 'password_change' | 'email_verification' | 'email_change';

/** Who made a check, as its events name them (a sign-in's failure: the account's user, when there is one). */
export interface PasswordChecker {
  ip: string;
  userId?: string;
  sessionId?: string;
}

/** Records a password check's refusals (see the file header). */
export interface LockRefusalEvents {
  /**
   * A check the lock refused (`err`, before any password was evaluated): `rate_limited`. `account` names the account
   * in the event window's key (a sign-in's email key; a signed-in check's user id).
   */
  refused(err: LoginLockedError, who: PasswordChecker, account: string): Promise<void>;
  /** A wrong password (or an unknown address): `login_failed`, and `account_locked` for each lock its failure set. */
  failed(locks: LoginLocks, who: PasswordChecker): Promise<void>;
  /** What a signed-in check by `who` reports to (services/password-change.ts), recorded as above. */
  reportFor(who: PasswordChecker & { userId: string }): PasswordCheckReport;
}

/** The events of one kind of check (`via`: a signed-in one; none: a sign-in), deduplicated over `windowMs`. */
export function lockRefusalEvents(
  deps: { events: SecurityEvents; metrics: Pick<Metrics, 'passwordCheckFailures'> },
  windowMs: number,
  via?: PasswordCheckVia,
): LockRefusalEvents {
  const { events, metrics } = deps;
  const refusals = eventThrottle(windowMs);
  // Counted for every check, before the events' deduplication: the metric is the rate, the events the record.
  const site: PasswordCheckSite = via ?? 'login';
  const counted = (reason: 'wrong' | 'locked'): void =>
    metrics.passwordCheckFailures.inc({ via: site, reason });
  const tagged = via === undefined ? {} : { via };
  // Named one by one: a caller's object may carry more (a request's device credentials) than an event may hold.
  const facts = ({ ip, userId, sessionId }: PasswordChecker) => ({ ip, userId, sessionId });
  const self: LockRefusalEvents = {
    async refused(err, who, account) {
      counted('locked');
      const limit = err.scope === 'device' ? 'login_device' : 'login_account';
      const decision = refusals(`${limit}|${addressKey(who.ip)}|${account}`, Date.now());
      if (decision === 'skip') return;
      await events.record('rate_limited', {
        ...facts(who),
        detail: { limit, ...tagged, ...(decision === 'overflow' && { suppressed: true }) },
      });
    },
    async failed(locks, who) {
      counted('wrong');
      await events.record('login_failed', { ...facts(who), ...(via !== undefined && { detail: tagged }) });
      for (const [ms, device] of [
        [locks.account, false],
        [locks.device, true],
      ] as const) {
        if (ms <= 0) continue;
        await events.record('account_locked', {
          ...facts(who),
          detail: { seconds: Math.ceil(ms / 1000), ...tagged, ...(device && { device: true }) },
        });
      }
    },
    reportFor: (who) => ({
      refused: (err) => self.refused(err, who, who.userId),
      failed: (locks) => self.failed(locks, who),
    }),
  };
  return self;
}
