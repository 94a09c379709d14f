/**
 * Admin: users — disable or enable an account, and edit its roles. Both are step-up actions: the server may ask for
 * the password again first (see lib/step-up.ts).
 */
import type { JotUser } from '@jot/client';

import { busy, h, heading, message, table } from '../lib/dom.js';
import { formatIso } from '../lib/format.js';
import { currentUser, jot } from '../lib/session.js';
import { withStepUp } from '../lib/step-up.js';

function row(user: JotUser, out: HTMLElement, reload: () => Promise<void>): (Node | string)[] {
  const self = currentUser()?.user.id === user.id;
  const rolesId = `roles-${user.id}`;
  const roles = h('input', {
    id: rolesId,
    type: 'text',
    value: user.roles.join(', '),
    'aria-label': `Roles of ${user.email}`,
    class: 'roles',
  });
  // Stable ids: after the table re-renders, focus returns to the same user's button (lib/step-up.ts).
  const save = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      id: `save-roles-${user.id}`,
      'aria-label': `Save roles of ${user.email}`,
    },
    'Save roles',
  );
  save.addEventListener('click', () => {
    const list = roles.value
      .split(',')
      .map((r) => r.trim())
      .filter((r) => r !== '');
    void busy(save, out, () =>
      withStepUp(save, async () => {
        await jot.json(`/api/admin/users/${encodeURIComponent(user.id)}/roles`, {
          method: 'PUT',
          body: { roles: [...new Set(list)] },
        });
        await reload();
        return `Roles of ${user.email} saved.`;
      }),
    );
  });
  const verb = user.status === 'disabled' ? 'enable' : 'disable';
  const toggle = h(
    'button',
    { type: 'button', class: verb === 'disable' ? 'danger' : '', id: `status-${user.id}` },
    verb === 'disable' ? 'Disable' : 'Enable',
  );
  toggle.setAttribute('aria-label', `${verb === 'disable' ? 'Disable' : 'Enable'} ${user.email}`);
  if (self && verb === 'disable') toggle.disabled = true;
  toggle.addEventListener('click', () => {
    void busy(toggle, out, () =>
      withStepUp(toggle, async () => {
        await jot.json(`/api/admin/users/${encodeURIComponent(user.id)}/${verb}`, { method: 'POST' });
        await reload();
        return `${user.email} ${verb}d.`;
      }),
    );
  });
  return [
    h('span', {}, user.email, self ? h('strong', {}, ' (you)') : null),
    user.name ?? '—',
    h('span', { class: 'inline' }, roles, save),
    h('span', { class: `status status-${user.status}` }, user.status),
    formatIso(user.created_at),
    toggle,
  ];
}

/** Renders the users page. */
export async function adminUsersPage(main: ParentNode): Promise<void> {
  const out = h('div', { 'aria-live': 'polite' });
  const holder = h('div');
  const reload = async (): Promise<void> => {
    const { users } = await jot.json<{ users: JotUser[] }>('/api/admin/users?limit=200');
    holder.replaceChildren(
      table(
        'Users, oldest first. Roles are comma-separated.',
        ['Email', 'Name', 'Roles', 'Status', 'Created', ''],
        users.map((u) => row(u, out, reload)),
      ),
    );
  };
  main.append(
    heading('Users'),
    h('p', { class: 'muted' }, 'Disabling a user or changing roles stops their existing tokens at once.'),
    out,
    holder,
  );
  await reload().catch((err: unknown) =>
    out.replaceChildren(message(err instanceof Error ? err.message : String(err), 'error')),
  );
}
