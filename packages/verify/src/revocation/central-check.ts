/**
 * The bookkeeping both `strict` variants share: every check asks a central list (introspection or Redis); when it
 * cannot answer, the verifier fails closed (503) or, if configured, open — counted, and logged once per outage with
 * one line when it ends.
 */
import { VerifyError } from '../errors.js';
import { describeError } from '../http.js';
import type { Logger } from '../types.js';
import type { RevocationStats } from './strategy.js';

/** Counts and outage state of a central revocation check. */
export class CentralCheck {
  readonly #name: string;
  readonly #failOpen: boolean;
  readonly #logger: Logger;
  #requests = 0;
  #failures = 0;
  #openDecisions = 0;
  #closedDecisions = 0;
  #lastError: string | undefined;
  #down = false;

  /** `name` says what is asked in log lines and the error `reason` (`introspection`, `redis`). */
  constructor(name: string, options: { failOpen: boolean; logger: Logger }) {
    this.#name = name;
    this.#failOpen = options.failOpen;
    this.#logger = options.logger;
  }

  /** Counts one request to the central list. */
  started(): void {
    this.#requests += 1;
  }

  /** The list answered: ends an outage, if there was one. */
  answered(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#logger.info(`${this.#name} revocation check reachable again`);
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
    if (!this.#down) {
      this.#down = true;
      this.#logger.warn(
        `${this.#name} revocation check failed; failing ${this.#failOpen ? 'open: accepting verified tokens' : 'closed: rejecting tokens'}`,
        { error: this.#lastError, failOpen: this.#failOpen },
      );
    }
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
   * The central list answered with a refusal (rate limited, credential refused): not an outage, so never failing
   * open — otherwise whoever can make the issuer refuse (spending an address's budget) would make revoked tokens
   * pass. Throws 503 `ERR_VERIFY_REVOCATION_REFUSED`, logged once until the list answers again.
   */
  refused(err: unknown): never {
    this.#failures += 1;
    this.#closedDecisions += 1;
    this.#lastError = describeError(err);
    if (!this.#down) {
      this.#down = true;
      this.#logger.warn(`${this.#name} revocation check refused; failing closed: rejecting tokens`, {
        error: this.#lastError,
      });
    }
    throw new VerifyError(
      'ERR_VERIFY_REVOCATION_REFUSED',
      'the issuer refused the revocation check (rate limited or credential refused); retry shortly',
      { reason: this.#name, cause: err },
    );
  }

  /** The `stats().revocation` of a strict verifier. */
  stats(): RevocationStats {
    return {
      strategy: 'strict',
      stale: this.#down,
      stalenessMs: 0,
      failOpen: this.#openDecisions,
      failClosed: this.#closedDecisions,
      requests: this.#requests,
      failures: this.#failures,
      lastError: this.#lastError,
    };
  }
}
