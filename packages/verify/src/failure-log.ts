/**
 * The log of a verifier's failing dependencies: a step of `authenticate` that throws instead of answering (the DPoP
 * replay store on Redis down, a bug) is refused with a 503 on every request, and logging each one would flood the
 * log for as long as the outage lasts. Per step, this logs the first failure of an outage at error level with its
 * cause, then at most one line per `FAILURE_REPORT_INTERVAL_MS` with how many requests were refused since the last
 * line, and one warning when the step works again with how many were refused in all.
 *
 * "Works again" needs evidence that the failing part answered (the caller reports a step that really ran: a DPoP
 * proof that was checked, not an unbound token the step let through), and no failure for `FAILURE_SETTLE_MS`: a
 * dependency that fails one request in three is still failing, and does not log an end and a start per request.
 */
import { describeError } from './http.js';
import type { AuthStep } from './request.js';
import type { Clock, Logger } from './types.js';

/** While a step keeps failing, at most one error line for it per this long. */
export const FAILURE_REPORT_INTERVAL_MS = 60_000;
/** A failing step counts as working again once it succeeds with no failure for this long. */
export const FAILURE_SETTLE_MS = 10_000;

/** One step's outage. */
interface Outage {
  /** Epoch ms of its first failure. */
  readonly since: number;
  /** Requests refused since `since`. */
  refused: number;
  /** Requests refused since the last line about it. */
  unreported: number;
  /** Whether a line has said it started. */
  reported: boolean;
  lastFailureAt: number;
  lastError: string;
}

/** Outages by step, and the throttle of their log lines. */
export class FailureLog {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #outages = new Map<AuthStep, Outage>();
  /** Epoch ms of the last error line per step: the throttle outlives an outage, so a flapping one is still bound. */
  readonly #lastLineAt = new Map<AuthStep, number>();

  constructor(logger: Logger, clock: Clock) {
    this.#logger = logger;
    this.#clock = clock;
  }

  /** Whether any step is failing: while none is, a success has nothing to report (the hot path checks only this). */
  failing(): boolean {
    return this.#outages.size > 0;
  }

  /** `step` threw instead of answering and the request was refused. */
  failed(step: AuthStep, err: unknown): void {
    const now = this.#clock();
    const error = describeError(err);
    let outage = this.#outages.get(step);
    if (outage === undefined) {
      outage = {
        since: now,
        refused: 0,
        unreported: 0,
        reported: false,
        lastFailureAt: now,
        lastError: error,
      };
      this.#outages.set(step, outage);
    }
    outage.refused += 1;
    outage.unreported += 1;
    outage.lastFailureAt = now;
    outage.lastError = error;
    if (now - (this.#lastLineAt.get(step) ?? -Infinity) < FAILURE_REPORT_INTERVAL_MS) return;
    this.#lastLineAt.set(step, now);
    if (!outage.reported) {
      outage.reported = true;
      this.#logger.error(
        `a request could not be authenticated: its ${step} step failed; such requests are refused with 503 until it ` +
          'works again (repeats are counted, not logged each time)',
        { step, error, refused: outage.unreported },
      );
    } else {
      this.#logger.error(`the ${step} step of request authentication is still failing`, {
        step,
        error,
        refused: outage.unreported,
        since: new Date(outage.since).toISOString(),
      });
    }
    outage.unreported = 0;
  }

  /** `step` ran and answered: ends its outage once it has not failed for `FAILURE_SETTLE_MS`. */
  succeeded(step: AuthStep): void {
    const outage = this.#outages.get(step);
    if (outage === undefined) return;
    const now = this.#clock();
    if (now - outage.lastFailureAt < FAILURE_SETTLE_MS) return;
    this.#outages.delete(step);
    this.#logger.warn(
      `the ${step} step of request authentication works again; ${outage.refused} request(s) were refused with 503 ` +
        'while it failed',
      {
        step,
        refused: outage.refused,
        since: new Date(outage.since).toISOString(),
        durationMs: outage.lastFailureAt - outage.since,
        lastError: outage.lastError,
      },
    );
  }
}
