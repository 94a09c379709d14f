/** Admin: invite people by email with roles (step-up), and revoke open invitations (with confirmation). */
import type { InvitationCreateBody, InvitationListView, InvitationView } from '@jot/contract';

import { onClick, onSubmit } from '../lib/actions.js';
import { field, h, heading, outcome, table, titled } from '../lib/dom.js';
import { loadWithStepUp } from '../lib/step-up.js';
import { formatIso } from '../lib/format.js';
import { commaList } from '../lib/lists.js';
import { jot } from '../lib/session.js';

function revokeButton(i: InvitationView, out: HTMLElement, reload: () => Promise<void>): HTMLButtonElement {
  const revoke = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      id: `revoke-${i.id}`,
      'aria-label': `Revoke the invitation of ${i.email}`,
    },
    'Revoke',
  );
  const confirm = {
    title: `Revoke the invitation of ${i.email}?`,
    text: 'Its link stops working.',
    confirm: 'Revoke',
  };
  const run = async (): Promise<string> => {
    await jot.json(`/api/admin/invitations/${encodeURIComponent(i.id)}`, { method: 'DELETE' });
    await reload();
    return `The invitation of ${i.email} was revoked.`;
  };
  return onClick(revoke, out, run, { confirm, stepUp: true });
}

function invitationsTable(
  invitations: readonly InvitationView[],
  out: HTMLElement,
  reload: () => Promise<void>,
): HTMLElement {
  if (invitations.length === 0) return h('p', { class: 'muted' }, 'No open invitations.');
  return table(
    'Open invitations, newest first',
    ['Email', 'Roles', 'Sent', 'Expires', ''],
    invitations.map((i) => [
      h('span', { class: 'address' }, i.email),
      i.roles.join(', ') || 'none',
      formatIso(i.created_at),
      formatIso(i.expires_at),
      revokeButton(i, out, reload),
    ]),
  );
}

function inviteForm(out: HTMLElement, reload: () => Promise<void>): HTMLFormElement {
  const email = h('input', { id: 'invite-new-email', type: 'email', required: true, autocomplete: 'off' });
  const roles = h('input', { id: 'invite-new-roles', type: 'text', autocomplete: 'off' });
  const send = h('button', { type: 'submit', id: 'send-invitation' }, 'Send invitation');
  const form = titled(
    'form',
    { heading: 'invite-new-h' },
    'Invite someone',
    field('Email', email),
    field('Roles', roles, 'Comma-separated, e.g. editor, viewer. Leave empty for none.'),
    send,
  );
  const invite = async (): Promise<string> => {
    const sent = email.value;
    await jot.json('/api/admin/invitations', {
      method: 'POST',
      body: { email: sent, roles: commaList(roles.value) } satisfies InvitationCreateBody,
    });
    email.value = '';
    roles.value = '';
    await reload();
    return `Invitation sent to ${sent}.`;
  };
  return onSubmit(form, send, out, invite, { stepUp: true });
}

/** Renders the invitations page. */
export async function adminInvitationsPage(main: ParentNode): Promise<void> {
  const out = outcome();
  const holder = h('div');
  const reload = async (): Promise<void> => {
    const { invitations } = await jot.json<InvitationListView>('/api/admin/invitations');
    holder.replaceChildren(invitationsTable(invitations, out, reload));
  };
  main.append(
    heading('Invitations'),
    h(
      'p',
      { class: 'muted' },
      'The invited person gets a link to choose a password; the account has the roles you give here.',
    ),
    inviteForm(out, reload),
    out,
    holder,
  );
  await loadWithStepUp(main.querySelector('h1') ?? out, out, reload);
}
