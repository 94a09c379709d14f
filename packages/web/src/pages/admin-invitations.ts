/** Admin: invite people by email with roles (step-up), and revoke open invitations (with confirmation). */
import type { InvitationView } from '@jot/contract';

import { afterConfirm } from '../lib/confirm.js';
import { busy, field, h, heading, message, table } from '../lib/dom.js';
import { formatIso } from '../lib/format.js';
import { jot } from '../lib/session.js';
import { withStepUp } from '../lib/step-up.js';

/** Renders the invitations page. */
export async function adminInvitationsPage(main: ParentNode): Promise<void> {
  const out = h('div', { 'aria-live': 'polite' });
  const holder = h('div');
  const reload = async (): Promise<void> => {
    const { invitations } = await jot.json<{ invitations: InvitationView[] }>('/api/admin/invitations');
    holder.replaceChildren(
      invitations.length === 0
        ? h('p', { class: 'muted' }, 'No open invitations.')
        : table(
            'Open invitations, newest first',
            ['Email', 'Roles', 'Sent', 'Expires', ''],
            invitations.map((i) => {
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
              revoke.addEventListener('click', () => {
                void busy(revoke, out, () =>
                  afterConfirm(
                    {
                      title: `Revoke the invitation of ${i.email}?`,
                      text: 'Its link stops working.',
                      confirm: 'Revoke',
                    },
                    async () => {
                      await jot.json(`/api/admin/invitations/${encodeURIComponent(i.id)}`, {
                        method: 'DELETE',
                      });
                      await reload();
                      return `The invitation of ${i.email} was revoked.`;
                    },
                  ),
                );
              });
              return [
                i.email,
                i.roles.join(', ') || 'none',
                formatIso(i.created_at),
                formatIso(i.expires_at),
                revoke,
              ];
            }),
          ),
    );
  };

  const email = h('input', { id: 'invite-new-email', type: 'email', required: true, autocomplete: 'off' });
  const roles = h('input', { id: 'invite-new-roles', type: 'text', autocomplete: 'off' });
  const send = h('button', { type: 'submit', id: 'send-invitation' }, 'Send invitation');
  const form = h(
    'form',
    { 'aria-labelledby': 'invite-new-h' },
    h('h2', { id: 'invite-new-h' }, 'Invite someone'),
    field('Email', email),
    field('Roles', roles, 'Comma-separated, e.g. editor, viewer. Leave empty for none.'),
    send,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const list = [
      ...new Set(
        roles.value
          .split(',')
          .map((r) => r.trim())
          .filter((r) => r !== ''),
      ),
    ];
    void busy(send, out, () =>
      withStepUp(send, async () => {
        await jot.json('/api/admin/invitations', {
          method: 'POST',
          body: { email: email.value, roles: list },
        });
        const sent = email.value;
        email.value = '';
        roles.value = '';
        await reload();
        return `Invitation sent to ${sent}.`;
      }),
    );
  });
  main.append(
    heading('Invitations'),
    h(
      'p',
      { class: 'muted' },
      'The invited person gets a link to choose a password; the account has the roles you give here.',
    ),
    form,
    out,
    holder,
  );
  await reload().catch((err: unknown) =>
    out.replaceChildren(message(err instanceof Error ? err.message : String(err), 'error')),
  );
}
