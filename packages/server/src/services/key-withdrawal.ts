/**
 * Withdrawing signing keys after a compromise, for the admin API and the `jot` CLI alike: one published key that
 * does not sign now, or the whole ring replaced by an immediate rotation. The active key alone is refused (conflict
 * `ERR_KEY_ACTIVE`: nothing would sign), a kid not published is `ERR_NOT_FOUND` (unknown, expired, or withdrawn
 * already: the row is gone either way). Each withdrawn key is a `key_withdrawn` event naming who asked.
 */
import type { KeyManager, SigningKeyInfo, WithdrawnKeyInfo } from '../keys/types.js';
import { DomainError } from './errors.js';
import type { SecurityEvents } from './security-events.js';
import type { AdminActor } from './user-admin.js';

/** What a withdrawal uses. */
export interface KeyWithdrawalDeps {
  keys: Pick<KeyManager, 'withdraw' | 'rotateAndWithdraw'>;
  events: SecurityEvents;
}

async function recordWithdrawal(
  events: SecurityEvents,
  key: WithdrawnKeyInfo,
  actor: AdminActor,
  replacedBy?: string,
): Promise<void> {
  await events.record('key_withdrawn', {
    userId: actor.by === 'cli' ? null : actor.by,
    ip: actor.ip,
    detail: { kid: key.kid, alg: key.alg, by: actor.by, ...(replacedBy === undefined ? {} : { replacedBy }) },
  });
}

/** Takes the published key `kid` out of the JWKS at once, everywhere. */
export async function withdrawSigningKey(
  deps: KeyWithdrawalDeps,
  kid: string,
  actor: AdminActor,
): Promise<WithdrawnKeyInfo> {
  const result = await deps.keys.withdraw(kid);
  if (result.outcome === 'active') {
    throw new DomainError(
      'conflict',
      'ERR_KEY_ACTIVE',
      `key ${kid} signs now and cannot be withdrawn alone; rotate with immediate and withdraw to replace it`,
    );
  }
  if (result.outcome === 'unknown') {
    throw new DomainError(
      'not_found',
      'ERR_NOT_FOUND',
      `no published signing key ${kid} (unknown, expired, or withdrawn already)`,
    );
  }
  const { outcome: _outcome, ...key } = result;
  await recordWithdrawal(deps.events, key, actor);
  return key;
}

/** An immediate rotation that withdraws every key published before it; resolves the new key and the withdrawn. */
export async function rotateWithdrawingRing(
  deps: KeyWithdrawalDeps,
  actor: AdminActor,
): Promise<{ key: SigningKeyInfo; withdrawn: WithdrawnKeyInfo[] }> {
  const rotated = await deps.keys.rotateAndWithdraw();
  await deps.events.record('key_rotated', {
    userId: actor.by === 'cli' ? null : actor.by,
    ip: actor.ip,
    detail: {
      kid: rotated.key.kid,
      alg: rotated.key.alg,
      immediate: true,
      activatesAt: rotated.key.activatesAt,
      withdrawn: rotated.withdrawn.map((k) => k.kid),
      by: actor.by,
    },
  });
  for (const key of rotated.withdrawn) await recordWithdrawal(deps.events, key, actor, rotated.key.kid);
  return rotated;
}
