/**
 * Admin: signing keys — list them (never key material), rotate (pre-published, immediately, or immediately
 * withdrawing every older key after a compromise), and withdraw one key that does not sign now. These are step-up
 * actions: the server may ask for the password again first (see lib/step-up.ts); withdrawals are confirmed first.
 */
import type { RotatedKeyView, SigningKeyListView, SigningKeyView, WithdrawnKeyView } from '@jot/contract';

import { onClick, runAction } from '../lib/actions.js';
import { checkbox, h, heading, outcome, table, titled } from '../lib/dom.js';
import { loadWithStepUp } from '../lib/step-up.js';
import { formatIso } from '../lib/format.js';
import { jot } from '../lib/session.js';

/** What a withdrawal does to the tokens signed with the key, said in every confirmation. */
const WITHDRAW_CONSEQUENCE =
  'tokens signed with this key stop verifying; signed-in users get new tokens on their next refresh.';

/** Withdraw (after confirming): for a published key that does not sign now; the active key offers none. */
function withdrawButton(
  k: SigningKeyView,
  out: HTMLElement,
  reload: () => Promise<void>,
): HTMLButtonElement | null {
  if (k.state === 'active') return null;
  const withdraw = h(
    'button',
    { type: 'button', class: 'danger', id: `withdraw-${k.kid}`, 'aria-label': `Withdraw key ${k.kid}` },
    'Withdraw',
  );
  const confirm = {
    title: `Withdraw the key ${k.kid}?`,
    text: `It leaves the JWKS at once and for good: ${WITHDRAW_CONSEQUENCE}`,
    confirm: 'Withdraw',
  };
  const run = async (): Promise<string> => {
    const gone = await jot.json<WithdrawnKeyView>(`/api/admin/keys/${encodeURIComponent(k.kid)}/withdraw`, {
      method: 'POST',
    });
    await reload();
    return `Withdrew key ${gone.kid}.`;
  };
  return onClick(withdraw, out, run, { confirm, stepUp: true });
}

function keysTable(
  keys: readonly SigningKeyView[],
  out: HTMLElement,
  reload: () => Promise<void>,
): HTMLTableElement {
  return table(
    'Signing keys, newest first',
    ['Key id', 'Algorithm', 'State', 'Created', 'Signs from', 'Retired', 'Leaves the JWKS', ''],
    keys.map((k) => [
      h('code', {}, k.kid),
      k.alg,
      h('span', { class: `status status-${k.state}` }, k.state),
      formatIso(k.created_at),
      formatIso(k.activates_at),
      formatIso(k.retired_at),
      formatIso(k.expires_at),
      withdrawButton(k, out, reload),
    ]),
  );
}

/** What a rotation answered, as a sentence. */
function rotatedText(key: RotatedKeyView): string {
  const created = `Created key ${key.kid} (${key.state}).`;
  const { withdrawn } = key;
  if (withdrawn === undefined) return created;
  if (withdrawn.length === 0) return `${created} No older key was published.`;
  return `${created} Withdrew ${withdrawn.length === 1 ? 'key' : 'keys'} ${withdrawn.join(', ')}.`;
}

/** The rotation form: confirmed, then a step-up action; its outcome shows by its button. */
function rotateForm(reload: () => Promise<void>): HTMLFormElement {
  const immediate = h('input', { id: 'rotate-immediate', type: 'checkbox' });
  const withdraw = h('input', { id: 'rotate-withdraw', type: 'checkbox' });
  // Withdrawing the older keys leaves the new one alone: it has to sign at once.
  withdraw.addEventListener('change', () => {
    if (withdraw.checked) immediate.checked = true;
  });
  immediate.addEventListener('change', () => {
    if (!immediate.checked) withdraw.checked = false;
  });
  const rotate = h('button', { type: 'submit', id: 'rotate-key' }, 'Rotate now');
  const out = outcome({ id: 'rotate-out' });
  const form = titled(
    'form',
    { heading: 'rotate-h', class: 'card' },
    'Rotate',
    h('p', {}, 'A new key is published first and signs once verifiers have had time to fetch it.'),
    checkbox(immediate, 'Sign with the new key immediately (after a key compromise)'),
    checkbox(withdraw, 'Emergency rotation: also withdraw every older key from the JWKS at once'),
    rotate,
    out,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = withdraw.checked ? { immediate: true, withdraw: true } : { immediate: immediate.checked };
    const confirm = withdraw.checked
      ? {
          title: 'Emergency rotation: withdraw every older key?',
          text: `The new key signs at once and every older key leaves the JWKS for good: ${WITHDRAW_CONSEQUENCE}`,
          confirm: 'Rotate and withdraw',
        }
      : {
          title: 'Rotate the signing key?',
          text: body.immediate
            ? 'The new key signs at once: verifiers that have not fetched it yet reject new tokens until they do.'
            : 'A new key is published now and signs once verifiers have had time to fetch it.',
          confirm: 'Rotate',
        };
    const run = async (): Promise<string> => {
      const key = await jot.json<RotatedKeyView>('/api/admin/keys/rotate', { method: 'POST', body });
      await reload();
      return rotatedText(key);
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
    holder.replaceChildren(keysTable(keys, out, reload));
  };
  main.append(heading('Signing keys'), out, holder, rotateForm(reload));
  await loadWithStepUp(main.querySelector('h1') ?? out, out, reload);
}
