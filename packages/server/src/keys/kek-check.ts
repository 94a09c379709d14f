/**
 * Whether the configured `JOT_KEK` is the deployment's: the one the stored signing keys were sealed with. Tools that
 * write what only that KEK can read or vouch for — invitation links (signed with a key derived from it), the mail
 * outbox (sealed under it), `client_secret_jwt` secrets — check it first, so a wrong KEK is an error now rather than
 * links, mail and secrets the servers refuse later.
 */
import type { Store } from '../store/index.js';
import { createKek } from './kek.js';
import { openSigningKey } from './sealed-key.js';

/**
 * Opens every stored signing key with `kekMaterial`; a database with no key yet has nothing to compare against.
 * @throws {KeyError} `ERR_KEK_MISMATCH` (another KEK) or `ERR_KEY_SEALED_INVALID` (a damaged row).
 */
export async function requireDeploymentKek(store: Store, kekMaterial: Uint8Array): Promise<void> {
  const kek = createKek(kekMaterial);
  for (const record of await store.listSigningKeys()) openSigningKey(kek, record);
}
