/**
 * The pages the verification and email-change links open: each posts its token once, on load, and says what
 * happened. A signed-in page reloads the user so the new address or verified state shows at once. A verification
 * link the server refuses (expired, used already, not valid) offers a new one, to the address it was sent to.
 *
 * Both links take proof that the one following them holds the account (`ERR_PASSWORD_REQUIRED`): the first
 * verification of an address (someone may have registered another person's address) and every email change
 * (someone may have asked to move their account to another person's address). A signed-in user's link goes with the
 * session, which is proof enough for their own account; otherwise the page asks for the account's password — one
 * form for both links — and offers the way out for the address's owner who did not ask: a password reset, which
 * takes a squatted account over, or, for a change, leaving the link alone.
 */
import { JotClientError } from '@jot/client';
import type { EmailChangeConfirmBody, EmailVerifyBody, UserView } from '@jot/contract';

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

/** The account's address a link was mailed for, read from its token (display only: the server checks the token). */
function addressOf(token: string): string | undefined {
  const claimed = peekClaims(token).email;
  return typeof claimed === 'string' ? claimed : undefined;
}

/** The way on from a link: back to the account when signed in, else to sign in. */
const continueLink = (): HTMLParagraphElement =>
  h('p', {}, h('a', { href: currentUser() === undefined ? '#/signin' : '#/account' }, 'Continue'));

/** What one of the two links is, and how its page speaks. */
interface LinkPage {
  path: '/api/email/verify' | '/api/email/change/confirm';
  /** The label of the account's address above the password. */
  addressLabel: string;
  /** What the password form says first: why the password is asked. */
  why: string;
  /** The form's button. */
  button: string;
  /** The news once the server took the link. */
  done: (user: UserView) => string;
  /** The way out for whoever did not ask for the link (`email`: the account's address, if known). */
  notMine: (email: string | undefined) => HTMLParagraphElement;
  /** A form for a new link when the server refused the link (else its message only). */
  newLink?: (email: string | undefined) => LinkRequestOptions;
}

/** The forgot-password page with the address filled in (never the link's token: only the address). */
const forgotPasswordHref = (email: string | undefined): string =>
  email === undefined
    ? '#/forgot-password'
    : `#/forgot-password?${new URLSearchParams({ email }).toString()}`;

const VERIFY: LinkPage = {
  path: '/api/email/verify',
  addressLabel: 'Email',
  why: 'Anyone can sign up with any address, so confirming it takes this account’s password.',
  button: 'Confirm my email',
  done: (user) => `${user.email} is verified. Thank you.`,
  notMine: (email) =>
    h(
      'p',
      {},
      'Someone may have signed up with your address. ',
      h('a', { href: forgotPasswordHref(email) }, 'I did not create this account — reset the password'),
    ),
  newLink: newVerification,
};

const CHANGE: LinkPage = {
  path: '/api/email/change/confirm',
  // The address the account has now (the link's `email`), which the password goes with; not the new one.
  addressLabel: 'Account email',
  why: 'Anyone signed in can ask to move their account to any address, so confirming the change takes this account’s password.',
  button: 'Confirm the new address',
  done: (user) => `Your account's email is now ${user.email}.`,
  notMine: () =>
    h(
      'p',
      {},
      'Didn’t ask for this change? Leave this page: without the password, your address is not added to any account.',
    ),
};

/** Sends a link: with the session when signed in (proof enough for the user's own account), else without. */
async function sendLink(page: LinkPage, body: EmailVerifyBody | EmailChangeConfirmBody): Promise<UserView> {
  if (currentUser() === undefined) return postAnonymous<UserView>(page.path, body);
  return jot.json<UserView>(page.path, { method: 'POST', body });
}

/** `node` takes `form`'s place and the focus (the form and its button are gone: the focus goes where the user is). */
function replaceFocused(form: HTMLFormElement, node: HTMLElement): void {
  form.replaceWith(node);
  node.tabIndex = -1;
  node.focus();
}

/**
 * A wrong password, said at the field: the error in `out`, the field marked invalid and described by it (and its
 * `hint`), emptied already and focused for the next try.
 */
function sayWrongPassword(password: HTMLInputElement, out: HTMLElement, hint: string): void {
  const wrong = message('That is not the password of this account. Try again.', 'error');
  wrong.id = 'link-password-error';
  out.replaceChildren(wrong);
  password.setAttribute('aria-invalid', 'true');
  password.setAttribute('aria-describedby', `${wrong.id} ${hint}`.trim());
  password.focus();
}

/**
 * The form a link needs when the server asks for the account's password: the account's address (read-only, for the
 * password manager), the password, and the way out for whoever did not ask. A wrong password is said at the field
 * (`aria-invalid`, described by the error), which is cleared for the next try; once the link is taken the form gives
 * way to the news; a refused link to a form for a new one (or the server's message).
 */
function passwordForm(page: LinkPage, token: string, email: string | undefined): HTMLFormElement {
  const address = h('input', {
    id: 'link-account-address',
    type: 'email',
    autocomplete: 'username',
    value: email ?? '',
    readonly: true,
  });
  const password = h('input', {
    id: 'link-password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'data-autofocus': true,
  });
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, page.button);
  const form = titled(
    'form',
    { heading: 'link-password-h' },
    'Enter your password',
    h('p', {}, page.why),
    email === undefined ? null : field(page.addressLabel, address),
    field('Password', password, 'The password this account signs in with.'),
    submit,
    out,
    page.notMine(email),
  );
  const hint = password.getAttribute('aria-describedby') ?? '';

  async function confirm(): Promise<void> {
    let user: UserView;
    try {
      user = await sendLink(page, { token, password: password.value });
    } catch (err) {
      password.value = '';
      if (linkRefused(err)) {
        if (page.newLink === undefined) replaceFocused(form, message(errorText(err), 'error'));
        else offerNewLink((...nodes) => form.replaceWith(...nodes), err, page.newLink(email));
        return;
      }
      if (answered(err, 'ERR_INVALID_CREDENTIALS')) {
        sayWrongPassword(password, out, hint);
        return;
      }
      throw err;
    }
    password.value = '';
    if (currentUser() !== undefined) await loadUser();
    replaceFocused(form, message(page.done(user), 'ok'));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // A new try: the last one's verdict no longer describes the field.
    password.removeAttribute('aria-invalid');
    if (hint === '') password.removeAttribute('aria-describedby');
    else password.setAttribute('aria-describedby', hint);
    void busy(submit, out, confirm);
  });
  return form;
}

/** A link page: posts the token once (with the session when signed in); asks for the password if it must. */
async function followLink(main: ParentNode, page: LinkPage, title: string): Promise<void> {
  const token = takeLinkToken();
  main.append(heading(title));
  if (token === undefined) {
    main.append(message('This page needs the link from the message we sent you.', 'error'));
    return;
  }
  const email = addressOf(token);
  try {
    const user = await sendLink(page, { token });
    if (currentUser() !== undefined) await loadUser();
    main.append(message(page.done(user), 'ok'));
  } catch (err) {
    if (answered(err, 'ERR_PASSWORD_REQUIRED')) main.append(passwordForm(page, token, email));
    else if (page.newLink !== undefined && linkRefused(err)) {
      offerNewLink((...nodes) => main.append(...nodes), err, page.newLink(email));
    } else main.append(message(errorText(err), 'error'));
  }
  main.append(continueLink());
}

/** Renders the verify-email page. */
export function verifyEmailPage(main: ParentNode): Promise<void> {
  return followLink(main, VERIFY, 'Verify your email');
}

/** Renders the confirm-new-email page. */
export function confirmEmailPage(main: ParentNode): Promise<void> {
  return followLink(main, CHANGE, 'Confirm your new email');
}
