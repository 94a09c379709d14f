/** Sign in and register (when the server's JOT_REGISTRATION is open). In development the first account becomes the admin. */
import { isMfaRequired, JotClientError } from '@jot/client';

import { postAnonymous } from '../lib/api.js';
import { busy, field, h, heading, message } from '../lib/dom.js';
import { jot, loadUser, takeNotice } from '../lib/session.js';
import { passkeySignIn, showSecondStep } from './signin-mfa.js';

function input(
  id: string,
  type: string,
  autocomplete: string,
  extra: Record<string, string> = {},
): HTMLInputElement {
  return h('input', { id, name: id, type, autocomplete, required: true, ...extra });
}

/** What to do when sign-in needs a verified address: open the link, or ask for a new one. */
function unverified(address: string): HTMLElement {
  const out = h('div', { 'aria-live': 'polite' });
  const resend = h('button', { type: 'button', class: 'secondary' }, 'Send a new link');
  resend.addEventListener('click', () => {
    void busy(resend, out, async () => {
      await postAnonymous('/api/email/verification', { email: address });
      return `If ${address} needs it, a new link is on its way.`;
    });
  });
  return h(
    'div',
    {},
    message(`Confirm your email first: open the link we sent to ${address}.`, 'info'),
    h('p', {}, resend),
    out,
  );
}

/** Renders the sign-in page. */
export function signInPage(main: ParentNode): void {
  const notice = takeNotice();

  const email = input('signin-email', 'email', 'username');
  const password = input('signin-password', 'password', 'current-password');
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const signIn = h(
    'form',
    { 'aria-labelledby': 'signin-h' },
    h('h2', { id: 'signin-h' }, 'Sign in'),
    field('Email', email),
    field('Password', password),
    submit,
    h('p', {}, h('a', { href: '#/forgot-password' }, 'Forgot your password?')),
    out,
    passkeySignIn(),
  );
  signIn.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, out, async () => {
      try {
        await jot.login(email.value, password.value);
      } catch (err) {
        if (err instanceof JotClientError && err.code === 'ERR_EMAIL_NOT_VERIFIED') {
          out.replaceChildren(unverified(email.value));
          return;
        }
        if (isMfaRequired(err)) {
          password.value = '';
          showSecondStep(signIn, err);
          return;
        }
        throw err;
      }
      password.value = '';
      await loadUser();
      location.hash = '#/account';
    });
  });

  const regEmail = input('register-email', 'email', 'username');
  const regName = h('input', { id: 'register-name', name: 'name', type: 'text', autocomplete: 'name' });
  const regPassword = input('register-password', 'password', 'new-password', { minlength: '8' });
  const regOut = h('div', { 'aria-live': 'polite' });
  const regSubmit = h('button', { type: 'submit' }, 'Create account');
  const register = h(
    'form',
    { 'aria-labelledby': 'register-h' },
    h('h2', { id: 'register-h' }, 'Create an account'),
    field('Email', regEmail),
    field('Name (optional)', regName),
    field('Password', regPassword, 'At least 8 characters, not a common password, not your email address.'),
    regSubmit,
    regOut,
  );
  register.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(regSubmit, regOut, async () => {
      await jot.json('/api/register', {
        method: 'POST',
        body: {
          email: regEmail.value,
          password: regPassword.value,
          ...(regName.value ? { name: regName.value } : {}),
        },
      });
      try {
        await jot.login(regEmail.value, regPassword.value);
      } catch (err) {
        if (err instanceof JotClientError && err.code === 'ERR_EMAIL_NOT_VERIFIED') {
          regPassword.value = '';
          regOut.replaceChildren(unverified(regEmail.value));
          return;
        }
        throw err;
      }
      regPassword.value = '';
      await loadUser();
      location.hash = '#/account';
    });
  });

  main.append(heading('Sign in to Jot'));
  if (notice !== undefined) main.append(message(notice, 'info'));
  main.append(h('div', { class: 'columns' }, signIn, register));
}
