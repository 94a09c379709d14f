/** Forgot password (ask for a link by mail) and reset password (the page the link opens). */
import type { MailLinkRequestBody, PasswordResetBody } from '@jot/contract';

import { postAnonymous, takeLinkToken } from '../lib/api.js';
import { busy, field, h, heading, message, titled } from '../lib/dom.js';

/** Renders the forgot-password page. */
export function forgotPasswordPage(main: ParentNode): void {
  const email = h('input', { id: 'forgot-email', type: 'email', autocomplete: 'username', required: true });
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Send me a link');
  const form = titled(
    'form',
    { heading: 'forgot-h' },
    'Reset your password by email',
    field('Email', email, 'We send a link that lets you choose a new password.'),
    submit,
    out,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, out, async () => {
      await postAnonymous('/api/password/forgot', { email: email.value } satisfies MailLinkRequestBody);
      return `If an account uses ${email.value}, a link is on its way. It works once, for a short time.`;
    });
  });
  main.append(
    heading('Forgot your password?'),
    form,
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
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, out, async () => {
      await postAnonymous('/api/password/reset', {
        token,
        new_password: password.value,
      } satisfies PasswordResetBody);
      password.value = '';
      submit.remove();
      out.after(h('p', {}, h('a', { href: '#/signin' }, 'Sign in with your new password')));
      return 'Your password was changed and every session was signed out.';
    });
  });
  main.append(form);
}
