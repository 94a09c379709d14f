/**
 * The audience and scope of a token issued to a client: the audiences asked for with `resource` (RFC 8707 §2) or
 * `audience` (RFC 8693 §2.1), each of which must be a resource indicator (services/resource-indicator.ts, the rule
 * registration applies to audiences) registered for the client (`invalid_target` otherwise), or the
 * client's first registered audience; and the scopes asked for, each within what is allowed (`invalid_scope`).
 */
import type { OAuthClient } from '../../store/index.js';
import { SCOPE_TOKEN } from '../../config/parsers.js';
import { DomainError } from '../errors.js';
import { echoed, echoedList } from '../echoed.js';
import { resourceIndicatorProblem } from '../resource-indicator.js';

/** The `aud` for the token: one string, or an array when several targets were asked for. */
export function chooseAudience(client: OAuthClient, targets: readonly string[]): string | string[] {
  if (targets.length === 0) {
    const first = client.audiences[0];
    if (first === undefined) {
      throw new DomainError('invalid', 'ERR_INVALID_TARGET', 'the client has no registered audience');
    }
    return first;
  }
  for (const target of targets) {
    const problem = resourceIndicatorProblem(target);
    if (problem !== undefined) {
      throw new DomainError(
        'invalid',
        'ERR_INVALID_TARGET',
        `"${echoed(target)}" ${problem}: a resource indicator is an absolute URI without a fragment (RFC 8707 §2)`,
      );
    }
  }
  const allowed = new Set(client.audiences);
  const refused = targets.filter((target) => !allowed.has(target));
  if (refused.length > 0) {
    throw new DomainError(
      'invalid',
      'ERR_INVALID_TARGET',
      `the client may not get tokens for ${echoedList(refused)}`,
    );
  }
  const unique = [...new Set(targets)];
  return unique.length === 1 ? (unique[0] as string) : unique;
}

/**
 * The scopes granted: `requested` (a space-separated `scope` parameter) when every one is in `allowed`, else all of
 * `allowed` when nothing was requested.
 */
export function chooseScopes(requested: string | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined) return [...allowed];
  const asked = requested.split(' ').filter((s) => s.length > 0);
  if (asked.length === 0 || !asked.every((s) => SCOPE_TOKEN.test(s))) {
    throw new DomainError(
      'invalid',
      'ERR_SCOPE_INVALID',
      'the "scope" parameter is malformed (RFC 6749 §3.3)',
    );
  }
  const allowedSet = new Set(allowed);
  const wider = asked.filter((s) => !allowedSet.has(s));
  if (wider.length > 0) {
    throw new DomainError('invalid', 'ERR_SCOPE_WIDENED', `not allowed: "${echoed(wider.join(' '))}"`);
  }
  return [...new Set(asked)];
}
