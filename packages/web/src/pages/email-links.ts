/**
 * The pages the verification and email-change links open: each posts its token once, on load, and says what
 * happened. A signed-in page reloads the user so the new address or verified state shows at once. A verification
 * link the server refuses (expired, used already, not valid) offers a new one, to the address it was sent to.
 */
import type { LinkTokenBody, UserView } from '@jot/contract';

import { peekClaims, postAnonymous, takeLinkToken } from '../lib/api.js';
import { errorText, h, heading, message } from '../lib/dom.js';
import { linkRefused, offerNewLink, type LinkRequestOptions } from '../lib/link-request.js';
import { currentUser, loadUser } from '../lib/session.js';

/** A verification link the server refused: a form for a new one, the address filled in (`email`, if known). */
const newVerification = (email: string | undefined): LinkRequestOptions => ({
  id: 'verification',
  title: 'Ask for a new link',
  path: '/api/email/verification',
  ...(email === undefined ? {} : { email }),
  hint: 'We send a new link to confirm this address.',
  button: 'Send a new link',
  sent: (address) => `If ${address} still needs confirming, a new link is on its way.`,
});

async function redeem(
  main: ParentNode,
  title: string,
  path: string,
  done: (email: string) => string,
  again?: (email: string | undefined) => LinkRequestOptions,
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
    if (again !== undefined && linkRefused(err)) {
      const claimed = peekClaims(token).email;
      offerNewLink(
        (...nodes) => main.append(...nodes),
        err,
        again(typeof claimed === 'string' ? claimed : undefined),
      );
    } else main.append(message(errorText(err), 'error'));
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
    newVerification,
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
