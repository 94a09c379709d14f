/**
 * The account page's two-factor section: the factors (authenticator app, passkeys) with rename (a form in the
 * factor's row) and remove, setting up an authenticator app (see account-totp.ts), adding a passkey, and recovery
 * codes (shown once). Adding and removing need a fresh confirmation (lib/step-up.ts); removing asks first.
 */
import type { MfaFactorView, MfaStatusView, RecoveryCodesView } from '@jot/contract';

import { onClick, onSubmit } from '../lib/actions.js';
import { failure, field, h, message, outcome, table } from '../lib/dom.js';
import { formatIso } from '../lib/format.js';
import { passkeyRegistration, passkeysSupported } from '../lib/passkeys.js';
import { jot } from '../lib/session.js';
import { recoveryCodes, totpButton, type MfaSection } from './account-totp.js';

const factorPath = (f: MfaFactorView): string => `/api/mfa/factors/${encodeURIComponent(f.id)}`;

/** The Rename button's id: stable across re-renders, so the focus can come back to it. */
const renameId = (f: MfaFactorView): string => `rename-factor-${f.id}`;

/**
 * The inline rename form that takes the place of the factor's name in its row: the current name to edit, Save
 * (Enter) and Cancel (Escape). `close` puts the name back and the focus on the Rename button.
 */
function renameForm(f: MfaFactorView, mfa: MfaSection, close: () => void): HTMLFormElement {
  const name = h('input', {
    id: `rename-factor-${f.id}-name`,
    type: 'text',
    value: f.name,
    maxlength: '64',
    autocomplete: 'off',
    'aria-label': `New name for ${f.name}`,
  });
  const save = h('button', { type: 'submit' }, 'Save');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const out = outcome({ class: 'rename-out' });
  const form = h('form', { class: 'rename-form', 'aria-label': `Rename ${f.name}` }, name, save, cancel, out);
  cancel.addEventListener('click', close);
  form.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    close();
  });
  return onSubmit(form, save, out, async () => {
    const wanted = name.value.trim();
    if (wanted === '') throw new Error('Give it a name, or cancel.');
    await jot.json(factorPath(f), { method: 'PATCH', body: { name: wanted } });
    await mfa.render();
    mfa.out.replaceChildren(message(`Renamed to ${wanted}.`, 'ok'));
    document.getElementById(renameId(f))?.focus();
  });
}

/** Rename: swaps the name in `cell` for the inline rename form, with the focus on its text field. */
function renameButton(f: MfaFactorView, cell: HTMLElement, mfa: MfaSection): HTMLButtonElement {
  const rename = h(
    'button',
    { type: 'button', class: 'secondary', id: renameId(f), 'aria-label': `Rename ${f.name}` },
    'Rename',
  );
  const close = (): void => {
    cell.replaceChildren(f.name);
    rename.disabled = false;
    rename.focus();
  };
  rename.addEventListener('click', () => {
    const form = renameForm(f, mfa, close);
    cell.replaceChildren(form);
    rename.disabled = true;
    const input = form.querySelector('input');
    input?.focus();
    input?.select();
  });
  return rename;
}

/** Remove a factor, after confirming: with the last one goes two-step verification, recovery codes included. */
function removeButton(f: MfaFactorView, last: boolean, mfa: MfaSection): HTMLButtonElement {
  const remove = h(
    'button',
    { type: 'button', class: 'danger', id: `remove-factor-${f.id}`, 'aria-label': `Remove ${f.name}` },
    'Remove',
  );
  const confirm = {
    title: `Remove ${f.name}?`,
    text: last
      ? 'It is your only second factor: two-step verification turns off and your recovery codes stop working. Sign-ins ask for the password alone.'
      : `Sign-ins no longer accept ${f.kind === 'totp' ? 'codes from this app' : 'this passkey'}.`,
    confirm: 'Remove',
  };
  const run = async (): Promise<string> => {
    await jot.json(factorPath(f), { method: 'DELETE' });
    await mfa.render();
    return `${f.name} removed.`;
  };
  return onClick(remove, mfa.out, run, { confirm, stepUp: true });
}

function factorRow(f: MfaFactorView, last: boolean, mfa: MfaSection): (Node | string)[] {
  const name = h('span', { class: 'factor-name' }, f.name);
  return [
    name,
    f.kind === 'totp' ? 'Authenticator app' : 'Passkey',
    formatIso(f.created_at),
    f.last_used_at === null ? 'never' : formatIso(f.last_used_at),
    h('span', { class: 'inline' }, renameButton(f, name, mfa), removeButton(f, last, mfa)),
  ];
}

function summary(status: MfaStatusView): HTMLElement {
  if (status.enabled)
    return message(
      `Two-step verification is on. Recovery codes left: ${status.recovery_codes_left} of 10.`,
      'ok',
    );
  // While the address is unverified the note below says what comes first; no "set one up" to contradict it.
  const waits = status.needs_verified_email;
  return message(
    status.required
      ? `This server requires a second factor for your account${waits ? '.' : ': set one up below.'}`
      : `Two-step verification is off.${waits ? '' : ' Add an authenticator app or a passkey to turn it on.'}`,
    status.required ? 'error' : 'info',
  );
}

function passkeyForm(mfa: MfaSection): HTMLElement {
  const name = h('input', { id: 'passkey-name', type: 'text', placeholder: 'e.g. Laptop', maxlength: '64' });
  const add = h('button', { type: 'button', class: 'secondary', id: 'passkey-add' }, 'Add a passkey');
  const run = async (): Promise<string> => {
    const options = await jot.json<Record<string, unknown>>('/api/passkeys/register/options', {
      method: 'POST',
    });
    const credential = await passkeyRegistration(options);
    const answer = await jot.json<Partial<RecoveryCodesView>>('/api/passkeys/register', {
      method: 'POST',
      body: { credential, ...(name.value.trim() === '' ? {} : { name: name.value.trim() }) },
    });
    await mfa.render();
    const codes = answer.recovery_codes === undefined ? undefined : recoveryCodes(answer.recovery_codes);
    mfa.extra.replaceChildren(codes ?? '');
    codes?.focus();
    return 'Passkey added.';
  };
  return h(
    'span',
    { class: 'inline' },
    field('Passkey name', name),
    onClick(add, mfa.out, run, { stepUp: true }),
  );
}

function newCodesButton(mfa: MfaSection): HTMLButtonElement {
  const again = h('button', { type: 'button', class: 'secondary', id: 'recovery-new' }, 'New recovery codes');
  const run = async (): Promise<void> => {
    const { recovery_codes: codes } = await jot.json<RecoveryCodesView>('/api/mfa/recovery-codes', {
      method: 'POST',
    });
    await mfa.render();
    const shown = recoveryCodes(codes);
    mfa.extra.replaceChildren(shown);
    shown.focus();
  };
  return onClick(again, mfa.out, run, { stepUp: true });
}

/**
 * What takes the place of the set-up buttons while the address is unverified: the server refuses a new factor then
 * (whoever registered an address first must not leave a factor for its owner to inherit).
 */
function confirmEmailFirst(): HTMLElement {
  const note = message(
    'Confirm your email address first: open the link we mailed you (or use "Send a new link" above), then you can add an authenticator app or a passkey here.',
    'info',
  );
  note.id = 'mfa-needs-email';
  return note;
}

/** The set-up buttons for `status`. */
function setUpActions(status: MfaStatusView, mfa: MfaSection): HTMLElement {
  if (status.needs_verified_email) return confirmEmailFirst();
  const actions = h('p', { class: 'inline' });
  if (!status.factors.some((f) => f.kind === 'totp')) actions.append(totpButton(mfa));
  if (passkeysSupported()) actions.append(passkeyForm(mfa));
  if (status.enabled) actions.append(newCodesButton(mfa));
  return actions;
}

/** The section's contents for `status`. */
function sectionContents(status: MfaStatusView, mfa: MfaSection): (Node | string)[] {
  const rows = status.factors.map((f) => factorRow(f, status.factors.length === 1, mfa));
  const actions = setUpActions(status, mfa);
  return [
    h('h2', { id: 'mfa-h' }, 'Two-step verification'),
    summary(status),
    rows.length === 0 ? '' : table('Your second factors', ['Name', 'Kind', 'Added', 'Last used', ''], rows),
    actions,
    mfa.extra,
    mfa.out,
  ];
}

/** Renders the section; it reloads itself in place after a change. */
export async function mfaSection(): Promise<HTMLElement> {
  const section = h('section', { 'aria-labelledby': 'mfa-h', id: 'mfa' });
  const mfa: MfaSection = {
    out: outcome({ id: 'mfa-out' }),
    extra: h('div', { id: 'mfa-extra' }),
    render: async () => {
      const status = await jot.json<MfaStatusView>('/api/mfa');
      section.replaceChildren(...sectionContents(status, mfa));
    },
  };
  await mfa.render().catch((err: unknown) => section.replaceChildren(failure(err)));
  return section;
}
