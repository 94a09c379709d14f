/**
 * The account page's two-factor section: the factors (authenticator app, passkeys) with rename and remove, setting
 * up an authenticator app (QR code drawn here as SVG, and the secret as text, confirmed by a first code), adding a
 * passkey, and recovery codes (shown once). Adding and removing need a fresh confirmation (lib/step-up.ts).
 */
import type { MfaStatusView, RecoveryCodesView, TotpEnrolmentView } from '@jot/contract';

import { busy, field, h, message, table } from '../lib/dom.js';
import { formatIso } from '../lib/format.js';
import { passkeyRegistration, passkeysSupported } from '../lib/passkeys.js';
import { qrSvg } from '../lib/qr.js';
import { jot } from '../lib/session.js';
import { withStepUp } from '../lib/step-up.js';

/** The recovery codes, once, with a hint to keep them. */
function recoveryCodes(codes: readonly string[]): HTMLElement {
  return h(
    'div',
    { class: 'recovery-codes', role: 'region', 'aria-label': 'Your recovery codes' },
    message(
      'Save these recovery codes now: each signs you in once if you lose your device. They are not shown again.',
      'info',
    ),
    h('ol', { class: 'codes' }, ...codes.map((c) => h('li', {}, h('code', {}, c)))),
  );
}

/** Renders the section; `render` reloads it in place after a change. */
export async function mfaSection(): Promise<HTMLElement> {
  const section = h('section', { 'aria-labelledby': 'mfa-h', id: 'mfa' });
  const out = h('div', { 'aria-live': 'polite', id: 'mfa-out' });
  const extra = h('div', { id: 'mfa-extra' });

  async function render(): Promise<void> {
    const status = await jot.json<MfaStatusView>('/api/mfa');
    const rows = status.factors.map((f) => {
      const rename = h(
        'button',
        { type: 'button', class: 'secondary', 'aria-label': `Rename ${f.name}` },
        'Rename',
      );
      rename.addEventListener('click', () => {
        const name = window.prompt('New name', f.name);
        if (name === null || name.trim() === '') return;
        void busy(rename, out, async () => {
          await jot.json(`/api/mfa/factors/${encodeURIComponent(f.id)}`, { method: 'PATCH', body: { name } });
          await render();
          return 'Renamed.';
        });
      });
      const remove = h(
        'button',
        { type: 'button', class: 'danger', id: `remove-factor-${f.id}`, 'aria-label': `Remove ${f.name}` },
        'Remove',
      );
      remove.addEventListener('click', () => {
        void busy(remove, out, () =>
          withStepUp(remove, async () => {
            await jot.json(`/api/mfa/factors/${encodeURIComponent(f.id)}`, { method: 'DELETE' });
            await render();
            return `${f.name} removed.`;
          }),
        );
      });
      return [
        f.name,
        f.kind === 'totp' ? 'Authenticator app' : 'Passkey',
        formatIso(f.created_at),
        f.last_used_at === null ? 'never' : formatIso(f.last_used_at),
        h('span', { class: 'inline' }, rename, remove),
      ];
    });
    const summary = status.enabled
      ? message(
          `Two-step verification is on. Recovery codes left: ${status.recovery_codes_left} of 10.`,
          'ok',
        )
      : message(
          status.required
            ? 'This server requires a second factor for your account: set one up below.'
            : 'Two-step verification is off. Add an authenticator app or a passkey to turn it on.',
          status.required ? 'error' : 'info',
        );
    const actions = h('p', { class: 'inline' });
    if (!status.factors.some((f) => f.kind === 'totp')) actions.append(totpButton());
    if (passkeysSupported()) actions.append(passkeyForm());
    if (status.enabled) actions.append(newCodesButton());
    section.replaceChildren(
      h('h2', { id: 'mfa-h' }, 'Two-step verification'),
      summary,
      rows.length === 0 ? '' : table('Your second factors', ['Name', 'Kind', 'Added', 'Last used', ''], rows),
      actions,
      extra,
      out,
    );
  }

  function totpButton(): HTMLButtonElement {
    const start = h('button', { type: 'button', id: 'totp-start' }, 'Set up an authenticator app');
    start.addEventListener('click', () => {
      void busy(start, out, () =>
        withStepUp(start, async () => {
          const enrolment = await jot.json<TotpEnrolmentView>('/api/mfa/totp', { method: 'POST' });
          extra.replaceChildren(totpEnrolment(enrolment));
          document.getElementById('totp-code')?.focus();
        }),
      );
    });
    return start;
  }

  function totpEnrolment(enrolment: { factor_id: string; secret: string; otpauth_uri: string }): HTMLElement {
    const code = h('input', {
      id: 'totp-code',
      type: 'text',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
      pattern: '\\d{6}',
      maxlength: '6',
      required: true,
    });
    const confirm = h('button', { type: 'submit' }, 'Confirm');
    const result = h('div', { 'aria-live': 'polite' });
    const grouped = enrolment.secret.match(/.{1,4}/g)?.join(' ') ?? enrolment.secret;
    const form = h(
      'form',
      { class: 'totp-enrolment', 'aria-labelledby': 'totp-h' },
      h('h3', { id: 'totp-h' }, 'Scan this code with your authenticator app'),
      qrSvg(enrolment.otpauth_uri, 'QR code of the authenticator-app secret'),
      h('p', {}, 'Or type this key: ', h('code', { id: 'totp-secret', class: 'secret' }, grouped)),
      field('Code shown by the app', code, 'Six digits; they change every 30 seconds.'),
      confirm,
      result,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void busy(confirm, result, async () => {
        const answer = await jot.json<Partial<RecoveryCodesView>>('/api/mfa/totp/confirm', {
          method: 'POST',
          body: { factor_id: enrolment.factor_id, code: code.value.trim() },
        });
        await render();
        extra.replaceChildren(
          message('Authenticator app added: sign-ins now ask for its code.', 'ok'),
          answer.recovery_codes === undefined ? '' : recoveryCodes(answer.recovery_codes),
        );
      });
    });
    return form;
  }

  function passkeyForm(): HTMLElement {
    const name = h('input', {
      id: 'passkey-name',
      type: 'text',
      placeholder: 'e.g. Laptop',
      maxlength: '64',
    });
    const add = h('button', { type: 'button', class: 'secondary', id: 'passkey-add' }, 'Add a passkey');
    add.addEventListener('click', () => {
      void busy(add, out, () =>
        withStepUp(add, async () => {
          const options = await jot.json<Record<string, unknown>>('/api/passkeys/register/options', {
            method: 'POST',
          });
          const credential = await passkeyRegistration(options);
          const answer = await jot.json<Partial<RecoveryCodesView>>('/api/passkeys/register', {
            method: 'POST',
            body: { credential, ...(name.value.trim() === '' ? {} : { name: name.value.trim() }) },
          });
          await render();
          extra.replaceChildren(
            answer.recovery_codes === undefined ? '' : recoveryCodes(answer.recovery_codes),
          );
          return 'Passkey added.';
        }),
      );
    });
    return h('span', { class: 'inline' }, field('Passkey name', name), add);
  }

  function newCodesButton(): HTMLButtonElement {
    const again = h(
      'button',
      { type: 'button', class: 'secondary', id: 'recovery-new' },
      'New recovery codes',
    );
    again.addEventListener('click', () => {
      void busy(again, out, () =>
        withStepUp(again, async () => {
          const { recovery_codes: codes } = await jot.json<RecoveryCodesView>('/api/mfa/recovery-codes', {
            method: 'POST',
          });
          await render();
          extra.replaceChildren(recoveryCodes(codes));
        }),
      );
    });
    return again;
  }

  await render().catch((err: unknown) =>
    section.replaceChildren(message(err instanceof Error ? err.message : String(err), 'error')),
  );
  return section;
}
