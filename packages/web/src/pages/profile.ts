/**
 * The account page's profile parts: display name, email change (confirmed by a link to the new address) and account
 * deletion. Changing the email and deleting need a recent password (step-up); deleting also asks for confirmation.
 */
import type { AcceptedView, EmailChangeBody, ProfileBody, UserView } from '@jot/contract';

import { onClick, onSubmit } from '../lib/actions.js';
import { postAnonymous } from '../lib/api.js';
import { field, h, message, outcome, titled } from '../lib/dom.js';
import { jot, loadUser, setNotice } from '../lib/session.js';

/**
 * Name and email, with the email's verification state; `onSaved` gets the user as reloaded after the name is saved
 * (the page shows the name elsewhere too).
 */
export function profileSection(user: UserView, onSaved: (user: UserView) => void): HTMLElement {
  const name = h('input', { id: 'profile-name', type: 'text', autocomplete: 'name', value: user.name ?? '' });
  const out = outcome();
  const save = h('button', { type: 'submit' }, 'Save name');
  const nameForm = titled('form', { heading: 'profile-h' }, 'Profile', field('Name', name), save, out);
  onSubmit(nameForm, save, out, async () => {
    await jot.json('/api/account', { method: 'PATCH', body: { name: name.value } satisfies ProfileBody });
    const who = await loadUser();
    if (who !== undefined) onSaved(who.user);
    return 'Name saved.';
  });

  const newEmail = h('input', { id: 'new-email', type: 'email', autocomplete: 'email', required: true });
  const emailOut = outcome();
  const change = h('button', { type: 'submit', id: 'change-email' }, 'Change email');
  const emailForm = titled(
    'form',
    { heading: 'email-h' },
    'Email address',
    h(
      'p',
      {},
      h('strong', {}, user.email),
      user.email_verified === false ? ' — not verified yet' : user.email_verified ? ' — verified' : '',
    ),
    user.email_verified === false ? resendVerification(user.email) : null,
    field('New email', newEmail, 'We send a confirmation link there; your email changes once you open it.'),
    change,
    emailOut,
  );
  const changeEmail = async (): Promise<string> => {
    const res = await jot.json<AcceptedView>('/api/email/change', {
      method: 'POST',
      body: { new_email: newEmail.value } satisfies EmailChangeBody,
    });
    // Done with this address (a refused one stays, to correct).
    newEmail.value = '';
    return `Check your inbox: ${res.message}.`;
  };
  onSubmit(emailForm, change, emailOut, changeEmail, { stepUp: true });
  return h('div', { class: 'columns' }, nameForm, emailForm);
}

/** "Send a new link" for an address not verified yet (its first link may have expired or gone astray). */
function resendVerification(email: string): HTMLElement {
  const out = outcome();
  const resend = h(
    'button',
    { type: 'button', class: 'secondary', id: 'resend-verification' },
    'Send a new link',
  );
  onClick(resend, out, async () => {
    await postAnonymous('/api/email/verification', { email });
    return `A new confirmation link is on its way to ${email}.`;
  });
  return h('div', {}, h('p', {}, resend), out);
}

/** Delete my account. */
export function deleteSection(user: UserView): HTMLElement {
  const out = outcome();
  const remove = h('button', { type: 'button', class: 'danger', id: 'delete-account' }, 'Delete my account');
  const confirm = {
    title: 'Delete your account?',
    text: `The account ${user.email} and its personal data are removed and every session ends. This cannot be undone.`,
    confirm: 'Delete my account',
  };
  const deleteAccount = async (): Promise<void> => {
    await jot.json('/api/account', { method: 'DELETE' });
    setNotice('Your account was deleted.');
    await jot.logout().catch(() => undefined);
  };
  onClick(remove, out, deleteAccount, { confirm, stepUp: true });
  return titled(
    'section',
    { heading: 'delete-h', class: 'card danger-zone' },
    'Delete account',
    message('Deleting removes your account and personal data and signs you out everywhere.', 'info'),
    h('p', {}, remove),
    out,
  );
}
