/** Accept an invitation: choose a password (and a name); the account is created and signed in. */
import type { InvitationAcceptBody, UserView } from '@jot/contract';

import { peekClaims, postAnonymous, takeLinkToken } from '../lib/api.js';
import { busy, field, h, heading, message, titled } from '../lib/dom.js';
import { jot, loadUser } from '../lib/session.js';

/** Renders the accept-invitation page. */
export function acceptInvitationPage(main: ParentNode): void {
  const token = takeLinkToken();
  main.append(heading('Accept your invitation'));
  if (token === undefined) {
    main.append(message('This page needs the link from your invitation message.', 'error'));
    return;
  }
  const claimed = peekClaims(token).email;
  const invited = typeof claimed === 'string' ? claimed : '';
  const email = h('input', {
    id: 'invite-email',
    type: 'email',
    autocomplete: 'username',
    value: invited,
    readonly: true,
  });
  const name = h('input', { id: 'invite-name', type: 'text', autocomplete: 'name' });
  const password = h('input', {
    id: 'invite-password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: '8',
  });
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Create my account');
  const form = titled(
    'form',
    { heading: 'invite-h' },
    'Your account',
    field('Email', email),
    field('Name (optional)', name),
    field('Password', password, 'At least 8 characters, not your email address.'),
    submit,
    out,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, out, async () => {
      const user = await postAnonymous<UserView>('/api/invitations/accept', {
        token,
        password: password.value,
        ...(name.value.trim() === '' ? {} : { name: name.value.trim() }),
      } satisfies InvitationAcceptBody);
      await jot.login(user.email, password.value);
      password.value = '';
      await loadUser();
      location.hash = '#/account';
    });
  });
  main.append(form);
}
