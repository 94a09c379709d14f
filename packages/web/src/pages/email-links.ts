/**
 * The pages the verification and email-change links open: each posts its token once, on load, and says what
 * happened. A signed-in page reloads the user so the new address or verified state shows at once. A verification
 * link the server refuses (expired, used already, not valid) offers a new one, to the address it was sent to.
 *
 * The first verification of an address takes proof that the one following the link registered the account
 * (`ERR_PASSWORD_REQUIRED`: someone may have registered another person's address): a signed-in user's link goes with
 * the session, which is proof enough for their own account; otherwise the page asks for the account's password, and
 * offers the way for the address's owner who did not create the account — a password reset, which takes it over.
 */
import { JotClientError } from '@jot/client';
import type { EmailVerifyBody, LinkTokenBody, UserView } from '@jot/contract';

import { ApiError, peekClaims, postAnonymous, takeLinkToken } from '../lib/api.js';
import { busy, errorText, field, h, heading, message, titled } from '../lib/dom.js';
import { linkRefused, offerNewLink, type LinkRequestOptions } from '../lib/link-request.js';
import { currentUser, jot, loadUser } from '../lib/session.js';

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

/** Whether `err` is the server's answer `code`, however the request was sent. */
const answered = (err: unknown, code: string): boolean =>
  (err instanceof ApiError || err instanceof JotClientError) && err.code === code;

/** The address a link was mailed to, read from its token (display only: the server checks the token). */
function addressOf(token: string): string | undefined {
  const claimed = peekClaims(token).email;
  return typeof claimed === 'string' ? claimed : undefined;
}

/** The way on from a link: back to the account when signed in, else to sign in. */
const continueLink = (): HTMLParagraphElement =>
  h('p', {}, h('a', { href: currentUser() === undefined ? '#/signin' : '#/account' }, 'Continue'));

/** A link page that posts its token once, anonymously, and says what happened. */
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
  main.append(continueLink());
}

/** Sends a verification: with the session when signed in (proof enough for the user's own account), else without. */
async function sendVerification(body: EmailVerifyBody): Promise<UserView> {
  if (currentUser() === undefined) return postAnonymous<UserView>('/api/email/verify', body);
  return jot.json<UserView>('/api/email/verify', { method: 'POST', body });
}

const verified = (email: string): string => `${email} is verified. Thank you.`;

/**
 * Sends the link with the password typed in `form` (its `password` field); once verified, the form gives way to the
 * news. A refused link offers a new one in its place; a wrong password says what to do.
 */
async function confirmWithPassword(
  form: HTMLFormElement,
  password: HTMLInputElement,
  token: string,
  email: string | undefined,
): Promise<void> {
  let user: UserView;
  try {
    user = await sendVerification({ token, password: password.value });
  } catch (err) {
    if (linkRefused(err)) {
      password.value = '';
      offerNewLink((...nodes) => form.replaceWith(...nodes), err, newVerification(email));
      return;
    }
    if (answered(err, 'ERR_INVALID_CREDENTIALS')) {
      throw new Error(
        'That is not the password of this account. If you did not create it, reset the password instead.',
      );
    }
    throw err;
  }
  password.value = '';
  if (currentUser() !== undefined) await loadUser();
  const ok = message(verified(user.email), 'ok');
  form.replaceWith(ok);
  // The form and its button are gone: the news takes the focus, so it is where the user is.
  ok.tabIndex = -1;
  ok.focus();
}

/**
 * The form the first verification of an address needs: the account's password, and the way for someone who did not
 * create the account (reset the password, which takes it over).
 */
function passwordForm(token: string, email: string | undefined): HTMLFormElement {
  const address = h('input', {
    id: 'verify-email-address',
    type: 'email',
    autocomplete: 'username',
    value: email ?? '',
    readonly: true,
  });
  const password = h('input', {
    id: 'verify-password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Confirm my email');
  const form = titled(
    'form',
    { heading: 'verify-password-h' },
    'Enter your password',
    h(
      'p',
      {},
      'Anyone can sign up with any address, so confirming it takes the password this account was created with.',
    ),
    email === undefined ? null : field('Email', address),
    field('Password', password, 'The password you chose when you created the account.'),
    submit,
    out,
    h(
      'p',
      {},
      'Didn’t create this account? Someone may have used your address: ',
      h('a', { href: '#/forgot-password' }, 'I did not create this account — reset the password'),
      ' to take it over.',
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, out, () => confirmWithPassword(form, password, token, email));
  });
  return form;
}

/** Renders the verify-email page. */
export async function verifyEmailPage(main: ParentNode): Promise<void> {
  const token = takeLinkToken();
  main.append(heading('Verify your email'));
  if (token === undefined) {
    main.append(message('This page needs the link from the message we sent you.', 'error'));
    return;
  }
  const email = addressOf(token);
  try {
    const user = await sendVerification({ token });
    if (currentUser() !== undefined) await loadUser();
    main.append(message(verified(user.email), 'ok'));
  } catch (err) {
    if (answered(err, 'ERR_PASSWORD_REQUIRED')) main.append(passwordForm(token, email));
    else if (linkRefused(err)) offerNewLink((...nodes) => main.append(...nodes), err, newVerification(email));
    else main.append(message(errorText(err), 'error'));
  }
  main.append(continueLink());
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
