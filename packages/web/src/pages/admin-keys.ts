/**
 * Admin: signing keys — list them (never key material) and rotate, pre-published or immediately. Rotation is a
 * step-up action: the server may ask for the password again first (see lib/step-up.ts).
 */
import type { SigningKeyListView, SigningKeyView } from '@jot/contract';

import { runAction } from '../lib/actions.js';
import { checkbox, h, heading, outcome, table, titled } from '../lib/dom.js';
import { loadWithStepUp } from '../lib/step-up.js';
import { formatIso } from '../lib/format.js';
import { jot } from '../lib/session.js';

function keysTable(keys: readonly SigningKeyView[]): HTMLTableElement {
  return table(
    'Signing keys, newest first',
    ['Key id', 'Algorithm', 'State', 'Created', 'Signs from', 'Retired', 'Leaves the JWKS'],
    keys.map((k) => [
      h('code', {}, k.kid),
      k.alg,
      h('span', { class: `status status-${k.state}` }, k.state),
      formatIso(k.created_at),
      formatIso(k.activates_at),
      formatIso(k.retired_at),
      formatIso(k.expires_at),
    ]),
  );
}

/** The rotation form: confirmed, then a step-up action; its outcome shows by its button. */
function rotateForm(reload: () => Promise<void>): HTMLFormElement {
  const immediate = h('input', { id: 'rotate-immediate', type: 'checkbox' });
  const rotate = h('button', { type: 'submit', id: 'rotate-key' }, 'Rotate now');
  const out = outcome({ id: 'rotate-out' });
  const form = titled(
    'form',
    { heading: 'rotate-h', class: 'card' },
    'Rotate',
    h('p', {}, 'A new key is published first and signs once verifiers have had time to fetch it.'),
    checkbox(immediate, 'Sign with the new key immediately (after a key compromise)'),
    rotate,
    out,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { immediate: immediate.checked };
    const confirm = {
      title: 'Rotate the signing key?',
      text: body.immediate
        ? 'The new key signs at once: verifiers that have not fetched it yet reject new tokens until they do.'
        : 'A new key is published now and signs once verifiers have had time to fetch it.',
      confirm: 'Rotate',
    };
    const run = async (): Promise<string> => {
      const key = await jot.json<SigningKeyView>('/api/admin/keys/rotate', { method: 'POST', body });
      await reload();
      return `Created key ${key.kid} (${key.state}).`;
    };
    void runAction(rotate, out, run, { confirm, stepUp: true });
  });
  return form;
}

/** Renders the keys page. */
export async function adminKeysPage(main: ParentNode): Promise<void> {
  const out = outcome();
  const holder = h('div');
  const reload = async (): Promise<void> => {
    const { keys } = await jot.json<SigningKeyListView>('/api/admin/keys');
    holder.replaceChildren(keysTable(keys));
  };
  main.append(heading('Signing keys'), out, holder, rotateForm(reload));
  await loadWithStepUp(main.querySelector('h1') ?? out, out, reload);
}
