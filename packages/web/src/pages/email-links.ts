/**
 * The pages the verification and email-change links open: each posts its token once, on load, and says what
 * happened. A signed-in page reloads the user so the new address or verified state shows at once.
 */
import type { LinkTokenBody, UserView } from '@jot/contract';

import { postAnonymous, takeLinkToken } from '../lib/api.js';
import { errorText, h, heading, message } from '../lib/dom.js';
import { currentUser, loadUser } from '../lib/session.js';

async function redeem(
  main: ParentNode,
  title: string,
  path: string,
  done: (email: string) => string,
): Promise<void> {
  const token = takeLinkToken();
  main.append(heading(title));
  if (token === undefined) {
    main.append(message('This page needs the link from the message we sent you.', 'error'));
    return;
  }
  try {
    const user = await postAnonymous<UserView>(path, { token } satisfies LinkTokenBody);
    if (currentUser() !== undefined) await loadUser();
    main.append(message(done(user.email), 'ok'));
  } catch (err) {
    main.append(message(errorText(err), 'error'));
  }
  main.append(
    h('p', {}, h('a', { href: currentUser() === undefined ? '#/signin' : '#/account' }, 'Continue')),
  );
}

/** Renders the verify-email page. */
export function verifyEmailPage(main: ParentNode): Promise<void> {
  return redeem(
    main,
    'Verify your email',
    '/api/email/verify',
    (email) => `${email} is verified. Thank you.`,
  );
}

/** Renders the confirm-new-email page. */
export function confirmEmailPage(main: ParentNode): Promise<void> {
  return redeem(
    main,
    'Confirm your new email',
    '/api/email/change/confirm',
    (email) => `Your account's email is now ${email}.`,
  );
}
