/**
 * The bookkeeping both `strict` variants share: every check asks a central list (introspection or Redis); when it
 * cannot answer, the verifier fails closed (503) or, if configured, open — counted, and logged once per episode with
 * one line when it ends, at most one warning per reason a minute (episode-log.ts).
 */
import { VerifyError } from '../errors.js';
import { describeError } from '../http.js';
import type { Clock, Logger } from '../types.js';
import { EpisodeLog } from './episode-log.js';
import type { RevocationStats } from './strategy.js';

/** Counts and outage state of a central revocation check. */
export class CentralCheck {
  readonly #name: string;
  readonly #failOpen: boolean;
  readonly #log: EpisodeLog;
  #requests = 0;
  #failures = 0;
  #openDecisions = 0;
  #closedDecisions = 0;
  #lastError: string | undefined;

  /**
   * `name` says what is asked in log lines and the error `reason` (`introspection`, `redis`); `clock` (the
   * verifier's) times the log's throttle.
   */
  constructor(name: string, options: { failOpen: boolean; logger: Logger; clock: Clock }) {
    this.#name = name;
    this.#failOpen = options.failOpen;
    this.#log = new EpisodeLog(options.logger, options.clock);
  }

  /** Counts one request to the central list. */
  started(): void {
    this.#requests += 1;
  }

  /** The list answered: ends an outage or refusal, if there was one. */
  answered(): void {
    if (this.#log.down) this.#log.answered(`${this.#name} revocation check reachable again`);
  }

  /** Remembers an error seen outside a check (a connection error event, say). */
  noteError(message: string): void {
    this.#lastError = message;
  }

  /**
   * The list could not answer: returns when failing open (the verified token is accepted), otherwise throws 503
   * `ERR_VERIFY_REVOCATION_UNAVAILABLE`.
   */
  failed(err: unknown): void {
    this.#failures += 1;
    this.#lastError = describeError(err);
    this.#log.failed(
      'outage',
      `${this.#name} revocation check failed; failing ${this.#failOpen ? 'open: accepting verified tokens' : 'closed: rejecting tokens'}`,
      { error: this.#lastError, failOpen: this.#failOpen },
    );
    if (this.#failOpen) {
      this.#openDecisions += 1;
      return;
    }
    this.#closedDecisions += 1;
    throw new VerifyError(
      'ERR_VERIFY_REVOCATION_UNAVAILABLE',
      'revocation status cannot be confirmed right now; retry shortly',
      {
        reason: this.#name,
        cause: err,
      },
    );
  }

  /**
   * The central list answered with a refusal (refusal.ts: rate limited, credential refused, a redirect, not the
   * answer asked for): not an outage, so never failing open — otherwise whoever can make the issuer refuse
   * (spending an address's budget) would make revoked tokens pass. Throws 503 `ERR_VERIFY_REVOCATION_REFUSED`,
   * with `reason` the check's name unless `kind` gives a reason (and message) of its own.
   */
  refused(err: unknown, kind?: { reason: string; message: string }): never {
    this.#failures += 1;
    this.#closedDecisions += 1;
    this.#lastError = describeError(err);
    const reason = kind?.reason ?? this.#name;
    // Logged when an episode starts or changes kind (an outage turning into refusals, or one refusal into another),
    // unless that kind warned within the minute.
    this.#log.failed(
      `refusal ${reason}`,
      `${this.#name} revocation check refused; failing closed: rejecting tokens`,
      {
        error: this.#lastError,
        reason,
      },
    );
    throw new VerifyError(
      'ERR_VERIFY_REVOCATION_REFUSED',
      kind?.message ??
        'the revocation check was refused (rate limited, credential refused, or not the expected answer); retry shortly',
      { reason, cause: err },
    );
  }

  /** The `stats().revocation` of a strict verifier. */
  stats(): RevocationStats {
    return {
      strategy: 'strict',
      stale: this.#log.down,
      stalenessMs: 0,
      failOpen: this.#openDecisions,
      failClosed: this.#closedDecisions,
      requests: this.#requests,
      failures: this.#failures,
      lastError: this.#lastError,
    };
  }
}
