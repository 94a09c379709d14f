/** The signed-in user's own account row, for the profile routes. */
import { HttpError } from '../../http/errors.js';
import type { Store, User } from '../../store/index.js';

/** The account `id`, or 404 `ERR_NOT_FOUND` when it was deleted since the access token was issued. */
export async function ownAccount(store: Store, id: string): Promise<User> {
  const user = await store.getUserById(id);
  if (user === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'the account no longer exists');
  return user;
}
