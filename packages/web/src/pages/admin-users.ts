/**
 * Admin: users — search and page through every user, create an account, disable or enable one, edit its roles,
 * reset its second factors, sign it out everywhere and delete it. All are step-up actions: the server may ask for the password again first
 * (see lib/step-up.ts); the destructive ones ask for confirmation.
 */
import type {
  MfaUserSummaryListView,
  RolesChangeBody,
  SessionsRevokedView,
  UserPageView,
  UserView,
} from '@jot/contract';

import { onClick } from '../lib/actions.js';
import { field, h, heading, outcome, table } from '../lib/dom.js';
import { loadWithStepUp } from '../lib/step-up.js';
import { formatIso } from '../lib/format.js';
import { commaList } from '../lib/lists.js';
import { currentUser, jot } from '../lib/session.js';
import { createUserForm } from './admin-user-form.js';

/** Second factors per user (`GET /api/admin/mfa`). */
type MfaByUser = ReadonlyMap<string, { totp: number; webauthn: number }>;

/** What a row's buttons act on: the outcome line and the reload of the table. */
interface UsersPage {
  out: HTMLElement;
  reload: () => Promise<void>;
}

const userPath = (user: UserView, rest = ''): string =>
  `/api/admin/users/${encodeURIComponent(user.id)}${rest}`;

/** The MFA cell: what the user has, and a reset (a step-up action, recorded as an event). */
function mfaCell(user: UserView, mfa: MfaByUser, page: UsersPage): Node | string {
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
  const confirm = {
    title: `Reset two-step verification of ${user.email}?`,
    text: 'Their authenticator app, passkeys and recovery codes are removed; they sign in with the password alone until they set up a new factor.',
    confirm: 'Reset',
  };
  const run = async (): Promise<string> => {
    await jot.json(userPath(user, '/mfa'), { method: 'DELETE' });
    await page.reload();
    return `Two-step verification of ${user.email} reset.`;
  };
  return h(
    'span',
    { class: 'inline' },
    `on (${kinds})`,
    onClick(reset, page.out, run, { confirm, stepUp: true }),
  );
}

/** The roles field and its save button. */
function rolesCell(user: UserView, page: UsersPage): HTMLElement {
  const roles = h('input', {
    id: `roles-${user.id}`,
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
  const run = async (): Promise<string> => {
    await jot.json(userPath(user, '/roles'), {
      method: 'PUT',
      body: { roles: commaList(roles.value) } satisfies RolesChangeBody,
    });
    await page.reload();
    return `Roles of ${user.email} saved.`;
  };
  return h('span', { class: 'inline' }, roles, onClick(save, page.out, run, { stepUp: true }));
}

/** Disable (after confirming) or enable; nobody disables themselves. */
function statusButton(user: UserView, self: boolean, page: UsersPage): HTMLButtonElement {
  const verb = user.status === 'disabled' ? 'enable' : 'disable';
  const label = verb === 'disable' ? 'Disable' : 'Enable';
  const toggle = h(
    'button',
    { type: 'button', class: verb === 'disable' ? 'danger' : '', id: `status-${user.id}` },
    label,
  );
  toggle.setAttribute('aria-label', `${label} ${user.email}`);
  if (self && verb === 'disable') toggle.disabled = true;
  const confirm =
    verb === 'disable'
      ? {
          title: `Disable ${user.email}?`,
          text: 'Their sessions end and every token of theirs stops working at once.',
          confirm: 'Disable',
        }
      : undefined;
  const run = async (): Promise<string> => {
    await jot.json(userPath(user, `/${verb}`), { method: 'POST' });
    await page.reload();
    return `${user.email} ${verb}d.`;
  };
  return onClick(toggle, page.out, run, { confirm, stepUp: true });
}

/** "1 session", "3 sessions". */
const sessions = (n: number): string => `${n} session${n === 1 ? '' : 's'}`;

/** Sign out everywhere (after confirming); one's own sessions end from the account page instead. */
function signOutButton(user: UserView, self: boolean, page: UsersPage): HTMLButtonElement {
  const end = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      id: `sign-out-${user.id}`,
      'aria-label': `Sign ${user.email} out everywhere`,
    },
    'Sign out everywhere',
  );
  if (self) end.disabled = true;
  const confirm = {
    title: `Sign ${user.email} out everywhere?`,
    text: 'Every session of theirs ends and every token of theirs stops working at once. They can sign in again.',
    confirm: 'Sign out everywhere',
  };
  const run = async (): Promise<string> => {
    const { revoked } = await jot.json<SessionsRevokedView>(userPath(user, '/sessions'), {
      method: 'DELETE',
    });
    return revoked === 0
      ? `${user.email} signed out everywhere: no session was open.`
      : `${user.email} signed out everywhere: ${sessions(revoked)} ended.`;
  };
  return onClick(end, page.out, run, { confirm, stepUp: true });
}

/** Delete (after confirming); nobody deletes themselves here. */
function deleteButton(user: UserView, self: boolean, page: UsersPage): HTMLButtonElement {
  const remove = h(
    'button',
    { type: 'button', class: 'danger', id: `delete-${user.id}`, 'aria-label': `Delete ${user.email}` },
    'Delete',
  );
  if (self) remove.disabled = true;
  const confirm = {
    title: `Delete ${user.email}?`,
    text: 'The account and its personal data are removed and every session ends. This cannot be undone.',
    confirm: 'Delete',
  };
  const run = async (): Promise<string> => {
    await jot.json(userPath(user), { method: 'DELETE' });
    await page.reload();
    return `${user.email} deleted.`;
  };
  return onClick(remove, page.out, run, { confirm, stepUp: true });
}

function row(user: UserView, mfa: MfaByUser, page: UsersPage): (Node | string)[] {
  const self = currentUser()?.user.id === user.id;
  return [
    h('span', { class: 'address' }, user.email, self ? h('strong', {}, ' (you)') : null),
    user.name ?? '—',
    rolesCell(user, page),
    h('span', { class: `status status-${user.status}` }, user.status),
    mfaCell(user, mfa, page),
    formatIso(user.created_at),
    h(
      'span',
      { class: 'inline' },
      signOutButton(user, self, page),
      statusButton(user, self, page),
      deleteButton(user, self, page),
    ),
  ];
}

const PAGE_SIZE = 25;

/** Previous, "26–50 of 80", Next. */
function pagerControls(offset: number, shown: number, total: number, go: (offset: number) => void): Node[] {
  const prev = h('button', { type: 'button', class: 'secondary', id: 'users-prev' }, 'Previous');
  const next = h('button', { type: 'button', class: 'secondary', id: 'users-next' }, 'Next');
  prev.disabled = offset === 0;
  next.disabled = offset + shown >= total;
  prev.addEventListener('click', () => go(Math.max(0, offset - PAGE_SIZE)));
  next.addEventListener('click', () => go(offset + PAGE_SIZE));
  const text = total === 0 ? 'No users match.' : `${offset + 1}–${offset + shown} of ${total}`;
  return [prev, h('span', { class: 'muted', 'data-count': String(total) }, text), next];
}

/**
 * The pager is drawn anew with each page: the focus goes to the button pressed (`back`: Previous), or to the other
 * one once that is disabled (the first or last page), instead of back to the top of the document.
 */
function keepPagerFocus(pager: HTMLElement, back: boolean): void {
  const active = document.activeElement;
  if (active !== null && active !== document.body) return;
  const [same, other] = back ? ['#users-prev', '#users-next'] : ['#users-next', '#users-prev'];
  const button = pager.querySelector<HTMLButtonElement>(same);
  (button !== null && !button.disabled ? button : pager.querySelector<HTMLButtonElement>(other))?.focus();
}

/** Renders the users page: server-side search and paging over every user. */
export async function adminUsersPage(main: ParentNode): Promise<void> {
  const holder = h('div');
  const query = h('input', { id: 'user-search', type: 'search', placeholder: 'email or name' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of users' });
  let offset = 0;
  const page: UsersPage = {
    out: outcome(),
    reload: async () => {
      const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
      if (query.value.trim() !== '') params.set('q', query.value.trim());
      const [{ users, total }, mfa] = await Promise.all([
        jot.json<UserPageView>(`/api/admin/users?${params}`),
        jot.json<MfaUserSummaryListView>('/api/admin/mfa'),
      ]);
      if (users.length === 0 && offset > 0 && total > 0) {
        offset = Math.max(0, Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE);
        return page.reload();
      }
      const mfaByUser: MfaByUser = new Map(mfa.users.map((u) => [u.user_id, u]));
      const rows = users.map((u) => row(u, mfaByUser, page));
      holder.replaceChildren(
        table(
          'Users, oldest first. Roles are comma-separated.',
          ['Email', 'Name', 'Roles', 'Status', 'Two-step', 'Created', ''],
          rows,
        ),
      );
      pager.replaceChildren(...pagerControls(offset, users.length, total, go));
    },
  };
  const title = heading('Users');
  const show = (): Promise<void> => loadWithStepUp(title, page.out, page.reload);
  const go = (to: number): void => {
    offset = to;
    const back = document.activeElement?.id === 'users-prev';
    void show().then(() => keepPagerFocus(pager, back));
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
    void show();
  });
  main.append(
    title,
    h('p', { class: 'muted' }, 'Signing out, disabling or changing roles stops a user’s tokens at once.'),
    search,
    page.out,
    holder,
    pager,
    createUserForm(page.reload),
  );
  await show();
}
