/**
 * Which completeness markers (`<namespace>:rev:complete`) a strict Redis verifier trusts: only one its own
 * deployment wrote. The server's check for two deployments writing one namespace goes with Redis's data — after
 * Redis restarts empty, the first deployment to copy its list finds itself alone and writes a marker, and the other
 * deployment's verifiers would trust that list (accepting tokens revoked in their own deployment) until the other
 * deployment's next pass. So the marker names its deployment, and a verifier compares it with
 * `revocation.deployment` (one id, or a list of them: a key change pre-trusted) or, by default, with the deployment
 * of the first marker it read (pinned while it runs). A marker of another deployment is no marker: refused, or asked
 * of the introspection fallback — never trusted.
 *
 * Pinning never moves on its own: a deployment id changes only with the server's `JOT_KEK` or `JOT_ISSUER`, and
 * a verifier cannot tell that from another deployment taking the namespace, so it fails closed and says what to do
 * (restart it, or give it the new id — listed beside the old one before the servers move, it is trusted from the
 * start). A marker of a server of an earlier version names no deployment: it is trusted only by a verifier that has
 * pinned nothing yet, never once one is known — so while servers of both versions renew the marker in turn (a
 * rolling upgrade) such a verifier refuses on and off, and its log says to finish the upgrade (docs/verify.md: the
 * introspection fallback answers meanwhile).
 *
 * The marker is read on every check, but its value changes only when a server renews it: the last value and what it
 * parsed to are kept, and only a different value is parsed again. What is kept is the parse alone — the value is
 * judged against the trusted ids on every check, so a foreign or unreadable marker is refused every time.
 */
import { parseCompletenessMarker, type CompletenessMarker, type RedisNames } from '@jot/contract';

import type { Clock, Logger } from '../types.js';

/** `revocation.deployment`'s default: the deployment of the first marker read, pinned. */
export const PIN_FIRST = 'pin';

/** At most one log line about another deployment's marker per this long. */
const FOREIGN_LOG_INTERVAL_MS = 60_000;

/** Redis answered, but not with a trustworthy mirror: a refusal, not an outage (refusal.ts). */
export class MirrorRefusal extends Error {}

/** The marker is another deployment's (or an earlier version's, once one is known): `reason` `deployment`. */
export class ForeignMarker extends MirrorRefusal {
  override readonly name = 'ForeignMarker';
}

/** What `MarkerTrust` needs. */
export interface MarkerTrustSettings {
  /** A deployment id, a non-empty list of them (each trusted), or `PIN_FIRST`. */
  deployment: string | readonly string[];
  names: RedisNames;
  clock: Clock;
  logger: Logger;
  /** Reads a marker's value. @default parseCompletenessMarker (tests count its calls) */
  parse?: (raw: string) => CompletenessMarker | undefined;
}

/** Judges the marker of every check against the verifier's deployment. */
export class MarkerTrust {
  readonly #s: MarkerTrustSettings;
  readonly #parse: (raw: string) => CompletenessMarker | undefined;
  /** Whether the trusted deployment is pinned from the first marker (`'pin'`) rather than given. */
  readonly #pinning: boolean;
  /** The ids trusted (frozen): those of `revocation.deployment`, or the pinned one; undefined until one is pinned. */
  #trusted: readonly string[] | undefined;
  #loggedAt: number | undefined;
  /** The last marker value read, and what it parsed to (undefined: unreadable). */
  #lastRaw: string | undefined;
  #lastMarker: CompletenessMarker | undefined;

  constructor(settings: MarkerTrustSettings) {
    this.#s = settings;
    this.#parse = settings.parse ?? parseCompletenessMarker;
    const { deployment } = settings;
    this.#pinning = deployment === PIN_FIRST;
    if (!this.#pinning) {
      this.#trusted = Object.freeze(typeof deployment === 'string' ? [deployment] : [...deployment]);
    }
  }

  /**
   * The deployment whose markers are trusted, as `revocation.deployment` gave it (one id, or the list), or the pinned
   * one; undefined until one is pinned.
   */
  get deployment(): string | readonly string[] | undefined {
    if (this.#pinning || typeof this.#s.deployment === 'string') return this.#trusted?.[0];
    return this.#trusted;
  }

  /** Throws a `MirrorRefusal` unless `raw` (the marker's value, or null) is a marker of this deployment. */
  check(raw: string | null | undefined): void {
    const key = this.#s.names.complete;
    if (typeof raw !== 'string') {
      throw new MirrorRefusal(`the Redis mirror is not known to be complete (no ${key} marker)`);
    }
    const marker = this.#read(raw);
    if (marker === undefined) {
      throw new MirrorRefusal(
        `the Redis mirror is not known to be complete (the ${key} marker cannot be read)`,
      );
    }
    const trusted = this.#trusted;
    if (trusted === undefined) {
      if (marker.deployment !== undefined) this.#pin(marker.deployment);
      return;
    }
    if (marker.deployment !== undefined && trusted.includes(marker.deployment)) return;
    const err = new ForeignMarker(this.#foreignMessage(marker.deployment, trusted));
    this.#log(err, marker.deployment);
    throw err;
  }

  /** `raw` parsed, or the last parse when `raw` is the value read last (the marker changes only when renewed). */
  #read(raw: string): CompletenessMarker | undefined {
    if (raw !== this.#lastRaw) {
      const marker = this.#parse(raw);
      this.#lastMarker = marker;
      this.#lastRaw = raw;
    }
    return this.#lastMarker;
  }

  #pin(deployment: string): void {
    this.#trusted = Object.freeze([deployment]);
    this.#s.logger.info(
      `strict Redis revocation: trusting the mirror of the deployment "${deployment}" (pinned from the first ` +
        `${this.#s.names.complete} marker read); set revocation.deployment to it to keep it across restarts`,
      { namespace: this.#s.names.namespace, deployment },
    );
  }

  #foreignMessage(found: string | undefined, trusted: readonly string[]): string {
    const { complete, namespace } = this.#s.names;
    const ids = trusted.map((id) => `"${id}"`).join(', ');
    const own = this.#pinning
      ? `the deployment ${ids} this verifier pinned from the first marker it read`
      : trusted.length === 1
        ? `the deployment ${ids} of revocation.deployment`
        : `any of the deployments ${ids} of revocation.deployment`;
    const until = 'Until then tokens are refused, or introspected when a secret is configured';
    if (found === undefined) {
      // A rolling upgrade of the servers, most likely: instances of both versions renew the marker in turn. Not a
      // changed key, and restarting the verifier would only trust the unnamed marker again until the next pin.
      return (
        `the Redis mirror is not trusted: its ${complete} marker was written by a Jot server of an earlier version, ` +
        `which names no deployment, not by ${own}. Upgrade every server writing the namespace "${namespace}" ` +
        '(while both versions run, they renew the marker in turn); if none of this deployment is of an earlier ' +
        `version, another deployment writes the namespace: give each deployment its own JOT_REDIS_NAMESPACE, and ` +
        `its verifiers the same revocation.namespace. ${until}`
      );
    }
    const fix = this.#pinning
      ? 'restart the verifier, or set revocation.deployment to the new id'
      : 'add the new id to revocation.deployment (a list trusts each of its ids), and drop the old one once no ' +
        'server writes as it';
    return (
      `the Redis mirror is not trusted: its ${complete} marker was written by the deployment "${found}", not by ` +
      `${own}. Either another deployment writes the namespace "${namespace}" (give each deployment its own ` +
      `JOT_REDIS_NAMESPACE, and its verifiers the same revocation.namespace), or this deployment's JOT_KEK or ` +
      `JOT_ISSUER changed and with them its id: then ${fix} (the server logs it at start; "jot redis ` +
      `deployment-id" prints it). ${until}`
    );
  }

  /** Logged at most once per `FOREIGN_LOG_INTERVAL_MS`, with or without an introspection fallback. */
  #log(err: ForeignMarker, found: string | undefined): void {
    const now = this.#s.clock();
    if (this.#loggedAt !== undefined && now - this.#loggedAt < FOREIGN_LOG_INTERVAL_MS) return;
    this.#loggedAt = now;
    this.#s.logger.error(err.message, {
      namespace: this.#s.names.namespace,
      deployment: this.deployment,
      markerDeployment: found ?? null,
    });
  }
}
