/**
 * The log of a central revocation check's episodes (central-check.ts): a warning when the check starts failing (an
 * outage, or a refusal by its reason) and an info line when it answers again. A check that flips — a Redis whose
 * marker servers of two versions renew in turn during a rolling upgrade, trusted one second and refused the next —
 * would log a pair of lines per flip; so at most one warning per reason per `EPISODE_LOG_INTERVAL_MS`, and the next
 * line logged says how many episodes and recoveries went unlogged since the last one.
 *
 * What the throttle never hides: a recovery after a logged warning is logged (the log's last word is not "failing"
 * while the check answers), and an episode whose start was not logged is logged by its first failure once the minute
 * is over (the log's last word is not "reachable again" while the check keeps failing).
 */
import type { Clock, Logger } from '../types.js';

/** At most one warning per reason per this long. */
export const EPISODE_LOG_INTERVAL_MS = 60_000;

/** The current episode: what fails, and whether a warning said so. */
interface Episode {
  readonly key: string;
  logged: boolean;
}

/** Episodes of one central check, and the throttle of their log lines. */
export class EpisodeLog {
  readonly #logger: Logger;
  readonly #clock: Clock;
  #current: Episode | undefined;
  /** Epoch ms of the last warning per episode key: the throttle outlives an episode, so a flapping check is bound. */
  readonly #warnedAt = new Map<string, number>();
  /** Whether the last line logged said the check fails (a warning) rather than that it answers again. */
  #saidFailing = false;
  /** Since the last line: episodes that started and ended without one, and recoveries not logged. */
  #unloggedEpisodes = 0;
  #unloggedRecoveries = 0;

  constructor(logger: Logger, clock: Clock) {
    this.#logger = logger;
    this.#clock = clock;
  }

  /** Whether an episode is current: the check does not answer. */
  get down(): boolean {
    return this.#current !== undefined;
  }

  /**
   * A check failed as `key` says (`outage`, `refusal <reason>`): starts an episode when none of that key is current,
   * and warns with `message` and `data` unless this episode was logged already or its key warned within the interval.
   */
  failed(key: string, message: string, data: Record<string, unknown>): void {
    let episode = this.#current;
    if (episode?.key !== key) {
      this.#end();
      episode = { key, logged: false };
      this.#current = episode;
    }
    if (episode.logged) return;
    const now = this.#clock();
    if (now - (this.#warnedAt.get(key) ?? -Infinity) < EPISODE_LOG_INTERVAL_MS) return;
    this.#warnedAt.set(key, now);
    episode.logged = true;
    this.#saidFailing = true;
    const unlogged = this.#takeUnlogged();
    this.#logger.warn(message + unlogged.note, { ...data, ...unlogged.counts });
  }

  /** The check answered: ends the episode, logging `message` when the last line logged said it fails. */
  answered(message: string): void {
    if (this.#current === undefined) return;
    this.#end();
    if (!this.#saidFailing) {
      this.#unloggedRecoveries += 1;
      return;
    }
    this.#saidFailing = false;
    const unlogged = this.#takeUnlogged();
    this.#logger.info(message + unlogged.note, unlogged.counts);
  }

  #end(): void {
    if (this.#current !== undefined && !this.#current.logged) this.#unloggedEpisodes += 1;
    this.#current = undefined;
  }

  /** What went unlogged since the last line, for the line about to be logged (and from now on, nothing). */
  #takeUnlogged(): { note: string; counts: Record<string, number> } {
    const episodes = this.#unloggedEpisodes;
    const recoveries = this.#unloggedRecoveries;
    this.#unloggedEpisodes = 0;
    this.#unloggedRecoveries = 0;
    if (episodes + recoveries === 0) return { note: '', counts: {} };
    return {
      note:
        ` (since the last line, ${episodes} more failing episode(s) and ${recoveries} recovery(ies) were not ` +
        'logged: at most one warning per reason a minute)',
      counts: { unloggedEpisodes: episodes, unloggedRecoveries: recoveries },
    };
  }
}
