/**
 * Sign in, and register when the server's `JOT_REGISTRATION` is `open` (lib/session.ts reads it from the page). In
 * development the first account becomes the admin.
 */
import { isMfaRequired, JotClientError } from '@jot/client';
import type { RegisterBody } from '@jot/contract';

import { postAnonymous } from '../lib/api.js';
import { onSubmit } from '../lib/actions.js';
import { busy, field, h, heading, message, outcome, titled } from '../lib/dom.js';
import { hasDraft } from '../lib/drafts.js';
import { goOnAfterSignIn, requestedReturn, returnTitle } from '../lib/return-to.js';
import { jot, loadUser, registrationOpen, takeNotice } from '../lib/session.js';
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
  const out = outcome();
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

const notVerified = (err: unknown): boolean =>
  err instanceof JotClientError && err.code === 'ERR_EMAIL_NOT_VERIFIED';

/** Loads the signed-in user and goes on: back to the page that sent them here, or the account page. */
async function enterAccount(): Promise<void> {
  await loadUser();
  goOnAfterSignIn();
}

function signInForm(): HTMLFormElement {
  const email = input('signin-email', 'email', 'username');
  const password = input('signin-password', 'password', 'current-password');
  const out = outcome();
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = titled(
    'form',
    { heading: 'signin-h' },
    'Sign in',
    field('Email', email),
    field('Password', password),
    submit,
    h('p', {}, h('a', { href: '#/forgot-password' }, 'Forgot your password?')),
    out,
    passkeySignIn(),
  );
  return onSubmit(form, submit, out, async () => {
    try {
      await jot.login(email.value, password.value);
    } catch (err) {
      if (notVerified(err)) {
        out.replaceChildren(unverified(email.value));
        return;
      }
      if (!isMfaRequired(err)) throw err;
      password.value = '';
      showSecondStep(form, err);
      return;
    }
    password.value = '';
    await enterAccount();
  });
}

/** Create an account (only offered when the server's registration is open). */
function registerForm(): HTMLFormElement {
  const email = input('register-email', 'email', 'username');
  const name = h('input', { id: 'register-name', name: 'name', type: 'text', autocomplete: 'name' });
  const password = input('register-password', 'password', 'new-password', { minlength: '8' });
  const out = outcome();
  const submit = h('button', { type: 'submit' }, 'Create account');
  const form = titled(
    'form',
    { heading: 'register-h' },
    'Create an account',
    field('Email', email),
    field('Name (optional)', name),
    field('Password', password, 'At least 8 characters, not a common password, not your email address.'),
    submit,
    out,
  );
  return onSubmit(form, submit, out, async () => {
    await jot.json('/api/register', {
      method: 'POST',
      body: {
        email: email.value,
        password: password.value,
        ...(name.value ? { name: name.value } : {}),
      } satisfies RegisterBody,
    });
    try {
      await jot.login(email.value, password.value);
    } catch (err) {
      if (!notVerified(err)) throw err;
      password.value = '';
      out.replaceChildren(unverified(email.value));
      return;
    }
    password.value = '';
    await enterAccount();
  });
}

/**
 * Why the user is here (`ended`: why the session ended, if it did) and where they go next, as status lines the
 * heading points at.
 */
function notices(): { lines: HTMLElement[]; ended: HTMLElement | undefined } {
  const lines: HTMLElement[] = [];
  const notice = takeNotice();
  const ended = notice === undefined ? undefined : message(notice, 'info');
  if (ended !== undefined) lines.push(ended);
  const title = returnTitle();
  const next = requestedReturn();
  if (title !== undefined && next !== undefined)
    lines.push(
      message(
        `After signing in you go back to “${title}”${
          hasDraft(next) ? ', with what you had typed there (passwords and codes are not kept).' : '.'
        }`,
        'info',
      ),
    );
  lines.forEach((line, i) => (line.id = `signin-notice-${i}`));
  return { lines, ended };
}

/** Renders the sign-in page. */
export function signInPage(main: ParentNode): void {
  const title = heading('Sign in to Jot');
  const { lines, ended } = notices();
  // Focus lands on the heading after navigation: it carries the notices, so a screen reader reads why.
  if (lines.length > 0) title.setAttribute('aria-describedby', lines.map((l) => l.id).join(' '));
  // Why the session ended lasts until the next action here: it sits in an outcome line, which the action's own
  // outcome clears (lib/dom.ts); where the user goes next stays.
  main.append(title, ...lines.map((line) => (line === ended ? outcome({}, line) : line)));
  main.append(h('div', { class: 'columns' }, signInForm(), registrationOpen() ? registerForm() : null));
}
