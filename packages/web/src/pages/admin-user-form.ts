/** The users page's "Create a user" form (works whatever JOT_REGISTRATION says); a step-up action. */
import type { AdminUserCreateBody, UserView } from '@jot/contract';

import { onSubmit } from '../lib/actions.js';
import { checkbox, field, h, outcome, titled } from '../lib/dom.js';
import { commaList } from '../lib/lists.js';
import { jot } from '../lib/session.js';

function input(id: string, type: string, extra: Record<string, string | boolean> = {}): HTMLInputElement {
  return h('input', { id, name: id, type, autocomplete: 'off', ...extra });
}

/** Builds the form; a created user reloads the table with `reload`. */
export function createUserForm(reload: () => Promise<void>): HTMLFormElement {
  const email = input('new-user-email', 'email', { required: true });
  const name = input('new-user-name', 'text');
  const password = input('new-user-password', 'password', {
    autocomplete: 'new-password',
    minlength: '8',
    required: true,
  });
  const roles = input('new-user-roles', 'text');
  const verified = input('new-user-verified', 'checkbox');
  const out = outcome();
  const submit = h('button', { type: 'submit', id: 'new-user-submit' }, 'Create user');
  const form = titled(
    'form',
    { heading: 'new-user-h', class: 'create-user' },
    'Create a user',
    field('Email', email),
    field('Name (optional)', name),
    field(
      'Password',
      password,
      'At least 8 characters; common passwords are refused. Share it with the user safely.',
    ),
    field('Roles (optional)', roles, 'Comma-separated, e.g. admin, support.'),
    checkbox(verified, 'The address is known to be theirs: mark it verified (no verification link is sent)'),
    submit,
    out,
  );
  const create = async (): Promise<string> => {
    const created = await jot.json<UserView>('/api/admin/users', {
      method: 'POST',
      body: {
        email: email.value,
        password: password.value,
        ...(name.value.trim() === '' ? {} : { name: name.value.trim() }),
        roles: commaList(roles.value),
        ...(verified.checked ? { email_verified: true } : {}),
      } satisfies AdminUserCreateBody,
    });
    form.reset();
    await reload();
    return `Created ${created.email}.`;
  };
  return onSubmit(form, submit, out, create, { stepUp: true });
}
