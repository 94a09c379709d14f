/**
 * Admin: users — create an account, disable or enable one, and edit its roles. All are step-up actions: the server
 * may ask for the password again first (see lib/step-up.ts).
 */
import type { MfaUserSummaryView, UserView } from '@jot/contract';

import { afterConfirm } from '../lib/confirm.js';
import { busy, field, h, heading, message, table } from '../lib/dom.js';
import { formatIso } from '../lib/format.js';
import { currentUser, jot } from '../lib/session.js';
import { withStepUp } from '../lib/step-up.js';

/** Second factors per user (`GET /api/admin/mfa`). */
type MfaByUser = ReadonlyMap<string, { totp: number; webauthn: number }>;

/** The MFA cell: what the user has, and a reset (a step-up action, recorded as an event). */
function mfaCell(
  user: UserView,
  mfa: MfaByUser,
  out: HTMLElement,
  reload: () => Promise<void>,
): Node | string {
  const has = mfa.get(user.id);
  if (has === undefined) return 'off';
  const kinds = [has.totp > 0 ? 'app' : '', has.webauthn > 0 ? `${has.webauthn} passkey(s)` : '']
    .filter((k) => k !== '')
    .join(', ');
  const reset = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      id: `mfa-reset-${user.id}`,
      'aria-label': `Reset MFA of ${user.email}`,
    },
    'Reset',
  );
  reset.addEventListener('click', () => {
    void busy(reset, out, () =>
      afterConfirm(
        {
          title: `Reset two-step verification of ${user.email}?`,
          text: 'Their authenticator app, passkeys and recovery codes are removed; they sign in with the password alone until they set up a new factor.',
          confirm: 'Reset',
        },
        () =>
          withStepUp(reset, async () => {
            await jot.json(`/api/admin/users/${encodeURIComponent(user.id)}/mfa`, { method: 'DELETE' });
            await reload();
            return `Two-step verification of ${user.email} reset.`;
          }),
      ),
    );
  });
  return h('span', { class: 'inline' }, `on (${kinds})`, reset);
}

function row(
  user: UserView,
  mfa: MfaByUser,
  out: HTMLElement,
  reload: () => Promise<void>,
): (Node | string)[] {
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
  const act = (): Promise<string> =>
    withStepUp(toggle, async () => {
      await jot.json(`/api/admin/users/${encodeURIComponent(user.id)}/${verb}`, { method: 'POST' });
      await reload();
      return `${user.email} ${verb}d.`;
    });
  toggle.addEventListener('click', () => {
    void busy(toggle, out, () =>
      verb === 'disable'
        ? afterConfirm(
            {
              title: `Disable ${user.email}?`,
              text: 'Their sessions end and every token of theirs stops working at once.',
              confirm: 'Disable',
            },
            act,
          )
        : act(),
    );
  });
  const remove = h(
    'button',
    { type: 'button', class: 'danger', id: `delete-${user.id}`, 'aria-label': `Delete ${user.email}` },
    'Delete',
  );
  if (self) remove.disabled = true;
  remove.addEventListener('click', () => {
    void busy(remove, out, () =>
      afterConfirm(
        {
          title: `Delete ${user.email}?`,
          text: 'The account and its personal data are removed and every session ends. This cannot be undone.',
          confirm: 'Delete',
        },
        () =>
          withStepUp(remove, async () => {
            await jot.json(`/api/admin/users/${encodeURIComponent(user.id)}`, { method: 'DELETE' });
            await reload();
            return `${user.email} deleted.`;
          }),
      ),
    );
  });
  return [
    h('span', {}, user.email, self ? h('strong', {}, ' (you)') : null),
    user.name ?? '—',
    h('span', { class: 'inline' }, roles, save),
    h('span', { class: `status status-${user.status}` }, user.status),
    mfaCell(user, mfa, out, reload),
    formatIso(user.created_at),
    h('span', { class: 'inline' }, toggle, remove),
  ];
}

const PAGE_SIZE = 25;

/** The "Create a user" form (works whatever JOT_REGISTRATION says). */
function createUserForm(reload: () => Promise<void>): HTMLFormElement {
  const input = (id: string, type: string, extra: Record<string, string | boolean> = {}): HTMLInputElement =>
    h('input', { id, name: id, type, autocomplete: 'off', ...extra });
  const email = input('new-user-email', 'email', { required: true });
  const name = input('new-user-name', 'text');
  const password = input('new-user-password', 'password', {
    autocomplete: 'new-password',
    minlength: '8',
    required: true,
  });
  const roles = input('new-user-roles', 'text');
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', id: 'new-user-submit' }, 'Create user');
  const form = h(
    'form',
    { 'aria-labelledby': 'new-user-h', class: 'create-user' },
    h('h2', { id: 'new-user-h' }, 'Create a user'),
    field('Email', email),
    field('Name (optional)', name),
    field(
      'Password',
      password,
      'At least 8 characters; common passwords are refused. Share it with the user safely.',
    ),
    field('Roles (optional)', roles, 'Comma-separated, e.g. admin, support.'),
    submit,
    out,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, out, () =>
      withStepUp(submit, async () => {
        const list = roles.value
          .split(',')
          .map((r) => r.trim())
          .filter((r) => r !== '');
        const created = await jot.json<UserView>('/api/admin/users', {
          method: 'POST',
          body: {
            email: email.value,
            password: password.value,
            ...(name.value.trim() === '' ? {} : { name: name.value.trim() }),
            roles: [...new Set(list)],
          },
        });
        form.reset();
        await reload();
        return `Created ${created.email}.`;
      }),
    );
  });
  return form;
}

/** Renders the users page: server-side search and paging over every user. */
export async function adminUsersPage(main: ParentNode): Promise<void> {
  const out = h('div', { 'aria-live': 'polite' });
  const holder = h('div');
  const query = h('input', { id: 'user-search', type: 'search', placeholder: 'email or name' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of users' });
  let offset = 0;
  const reload = async (): Promise<void> => {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
    if (query.value.trim() !== '') params.set('q', query.value.trim());
    const [{ users, total }, mfa] = await Promise.all([
      jot.json<{ users: UserView[]; total: number }>(`/api/admin/users?${params}`),
      jot.json<{ users: MfaUserSummaryView[] }>('/api/admin/mfa'),
    ]);
    const mfaByUser: MfaByUser = new Map(mfa.users.map((u) => [u.user_id, u]));
    if (users.length === 0 && offset > 0 && total > 0) {
      offset = Math.max(0, Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE);
      return reload();
    }
    holder.replaceChildren(
      table(
        'Users, oldest first. Roles are comma-separated.',
        ['Email', 'Name', 'Roles', 'Status', 'Two-step', 'Created', ''],
        users.map((u) => row(u, mfaByUser, out, reload)),
      ),
    );
    const prev = h('button', { type: 'button', class: 'secondary' }, 'Previous');
    const next = h('button', { type: 'button', class: 'secondary' }, 'Next');
    prev.disabled = offset === 0;
    next.disabled = offset + users.length >= total;
    prev.addEventListener('click', () => {
      offset = Math.max(0, offset - PAGE_SIZE);
      void reload();
    });
    next.addEventListener('click', () => {
      offset += PAGE_SIZE;
      void reload();
    });
    const shown = total === 0 ? 'No users match.' : `${offset + 1}–${offset + users.length} of ${total}`;
    pager.replaceChildren(prev, h('span', { class: 'muted', 'data-count': String(total) }, shown), next);
  };
  const search = h(
    'form',
    { role: 'search', class: 'search' },
    field('Search users', query),
    h('button', { type: 'submit' }, 'Search'),
  );
  search.addEventListener('submit', (event) => {
    event.preventDefault();
    offset = 0;
    void reload().catch((err: unknown) =>
      out.replaceChildren(message(err instanceof Error ? err.message : String(err), 'error')),
    );
  });
  main.append(
    heading('Users'),
    h('p', { class: 'muted' }, 'Disabling a user or changing roles stops their existing tokens at once.'),
    search,
    out,
    holder,
    pager,
    createUserForm(reload),
  );
  await reload().catch((err: unknown) =>
    out.replaceChildren(message(err instanceof Error ? err.message : String(err), 'error')),
  );
}
