/**
 * The value of the completeness marker `<namespace>:rev:complete` (redis-keys.ts), which the server writes after a
 * full copy of its revocation list and `@jot/verify`'s strict Redis mode reads on every check: the cursor the copy
 * vouches for, when, and which deployment wrote it. The deployment id is what a verifier is told in
 * `revocation.deployment` (or pins from the first marker it reads), so that it trusts only its own deployment's
 * mirror — a Redis that lost its data may get its first marker from another deployment sharing the namespace.
 */

/** The marker's JSON value. Markers of versions before the deployment id have none. */
export interface CompletenessMarker {
  /** The feed cursor (an entry id) the copy reached; absent when the list was empty. */
  readonly cursor?: number;
  /** When it was written (epoch milliseconds). */
  readonly at?: number;
  /** The writing deployment's id (the server's `deploymentId(JOT_KEK, JOT_ISSUER)`). */
  readonly deployment?: string;
}

/** A deployment id: 12 bytes of HKDF output in base64url, 16 characters. */
const DEPLOYMENT_ID = /^[A-Za-z0-9_-]{16}$/;

/** Why `value` cannot be a deployment id, or undefined when it can. */
export function deploymentIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'expected a string';
  if (!DEPLOYMENT_ID.test(value)) {
    return 'expected the 16-character base64url id the server logs at start ("jot redis deployment-id" prints it)';
  }
  return undefined;
}

/** The marker's value as the server writes it. */
export function completenessMarkerValue(marker: CompletenessMarker): string {
  return JSON.stringify({ cursor: marker.cursor, at: marker.at, deployment: marker.deployment });
}

/**
 * The marker `raw` holds, or undefined when it cannot be read: not a JSON object, a `cursor` that is not a number
 * or a `deployment` that is not a deployment id. An unreadable marker is no marker, to the server (it copies in full)
 * and to a verifier (it does not trust the mirror) alike.
 */
export function parseCompletenessMarker(raw: string | null | undefined): CompletenessMarker | undefined {
  if (typeof raw !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { cursor, at, deployment } = value as Record<string, unknown>;
  if (cursor !== undefined && typeof cursor !== 'number') return undefined;
  if (deployment !== undefined && deploymentIdProblem(deployment) !== undefined) return undefined;
  return {
    ...(cursor === undefined ? {} : { cursor }),
    ...(typeof at === 'number' ? { at } : {}),
    ...(deployment === undefined ? {} : { deployment: deployment as string }),
  };
}
