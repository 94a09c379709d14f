/**
 * Forgot password (ask for a link by mail) and reset password (the page the link opens). A link the server refuses
 * (expired, used already, not valid) is no dead end: the page offers a new one, to the address the link was for.
 */
import type { PasswordResetBody } from '@jot/contract';

import { peekClaims, postAnonymous, takeLinkToken } from '../lib/api.js';
import { busy, field, h, heading, message, titled } from '../lib/dom.js';
import { linkRefused, linkRequestForm, offerNewLink, type LinkRequestOptions } from '../lib/link-request.js';

/** The forgot-password form; `email` fills in the address. */
const forgotForm = (email?: string, again = false): LinkRequestOptions => ({
  id: 'forgot',
  title: again ? 'Ask for a new link' : 'Reset your password by email',
  path: '/api/password/forgot',
  ...(email === undefined ? {} : { email }),
  hint: 'We send a link that lets you choose a new password.',
  button: again ? 'Send me a new link' : 'Send me a link',
  sent: (address) => `If an account uses ${address}, a link is on its way. It works once, for a short time.`,
});

/**
 * The address a page that sends here filled in (`#/forgot-password?email=…`: the verification page's way to take
 * over an account someone registered with the reader's address), taken out of the address bar as a link's token is.
 * Only ever an address, shown as the field's value for the user to check; never a token.
 */
function prefilledEmail(): string | undefined {
  const [path, query = ''] = location.hash.split('?');
  if (query === '') return undefined;
  history.replaceState(history.state, '', `${location.pathname}${location.search}${path}`);
  const email = new URLSearchParams(query).get('email') ?? '';
  return email === '' || email.length > 320 ? undefined : email;
}

/** Renders the forgot-password page. */
export function forgotPasswordPage(main: ParentNode): void {
  main.append(
    heading('Forgot your password?'),
    linkRequestForm(forgotForm(prefilledEmail())),
    h('p', {}, h('a', { href: '#/signin' }, 'Back to sign in')),
  );
}

/** Renders the reset-password page (opened from the message's link). */
export function resetPasswordPage(main: ParentNode): void {
  const token = takeLinkToken();
  main.append(heading('Choose a new password'));
  if (token === undefined) {
    main.append(
      message('This page needs the link from the reset message. Ask for a new one.', 'error'),
      h('p', {}, h('a', { href: '#/forgot-password' }, 'Ask for a new link')),
    );
    return;
  }
  const password = h('input', {
    id: 'reset-password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: '8',
  });
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Set new password');
  const form = titled(
    'form',
    { heading: 'reset-h' },
    'New password',
    field('New password', password, 'At least 8 characters. Every session of the account is signed out.'),
    submit,
    out,
  );
  // The address the link was sent to, to ask for a new one (the server checks the link; this is only a default).
  const claimed = peekClaims(token).email;
  const email = typeof claimed === 'string' ? claimed : undefined;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, out, async () => {
      try {
        await postAnonymous('/api/password/reset', {
          token,
          new_password: password.value,
        } satisfies PasswordResetBody);
      } catch (err) {
        if (!linkRefused(err)) throw err;
        password.value = '';
        offerNewLink((...nodes) => form.replaceWith(...nodes), err, forgotForm(email, true));
        return;
      }
      password.value = '';
      submit.remove();
      out.after(h('p', {}, h('a', { href: '#/signin' }, 'Sign in with your new password')));
      return 'Your password was changed and every session was signed out.';
    });
  });
  main.append(form);
}
