/**
 * Setting up an authenticator app on the account page: the QR code (drawn here as SVG) and the secret as text,
 * confirmed by a first code; the first factor's answer carries the recovery codes, shown once. After the confirmation
 * the user can start over with a new key (their app did not keep the entry): the confirmed key is removed, never
 * shown again (see {@link startOverButton}).
 */
import type { TotpEnrolmentView } from '@jot/contract';

import { onClick } from '../lib/actions.js';
import type { ConfirmOptions } from '../lib/confirm.js';
import { busy, field, h, message, outcome } from '../lib/dom.js';
import { qrSvg } from '../lib/qr.js';
import { jot } from '../lib/session.js';

/** The two-factor section as its parts see it: its outcome line, a place for one-time output, and its reload. */
export interface MfaSection {
  out: HTMLElement;
  extra: HTMLElement;
  render: () => Promise<void>;
}

/**
 * The recovery codes, once, with a hint to keep them. Whoever shows them gives them the focus (`showCodes`): the user
 * must save them now, and the button that led here may be gone.
 */
export function recoveryCodes(codes: readonly string[]): HTMLElement {
  return h(
    'div',
    { class: 'recovery-codes', role: 'region', 'aria-label': 'Your recovery codes', tabindex: '-1' },
    message(
      'Save these recovery codes now: each signs you in once if you lose your device. They are not shown again.',
      'info',
    ),
    h('ol', { class: 'codes' }, ...codes.map((c) => h('li', {}, h('code', {}, c)))),
  );
}

function totpEnrolment(enrolment: TotpEnrolmentView, mfa: MfaSection): HTMLElement {
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
  // Giving up before confirming: the form goes, the focus back to the button that opened it. The pending key is
  // harmless (it signs nothing in) and the next start replaces it.
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  cancel.addEventListener('click', () => {
    mfa.extra.replaceChildren();
    document.getElementById('totp-start')?.focus();
  });
  const result = outcome();
  const grouped = enrolment.secret.match(/.{1,4}/g)?.join(' ') ?? enrolment.secret;
  const form = h(
    'form',
    { class: 'totp-enrolment', 'aria-labelledby': 'totp-h' },
    h('h3', { id: 'totp-h' }, 'Scan this code with your authenticator app'),
    qrSvg(enrolment.otpauth_uri, 'QR code of the authenticator-app secret'),
    h('p', {}, 'Or type this key: ', h('code', { id: 'totp-secret', class: 'secret' }, grouped)),
    field('Code shown by the app', code, 'Six digits; they change every 30 seconds.'),
    h('div', { class: 'actions' }, confirm, cancel),
    result,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(confirm, result, async () => {
      // Through the client: the session goes on with the answer's aal2 tokens (`session:refreshed`).
      const answer = await jot.confirmTotp(enrolment.factor_id, code.value);
      await mfa.render();
      const codes = answer.recoveryCodes === undefined ? undefined : recoveryCodes(answer.recoveryCodes);
      const added = message('Authenticator app added: sign-ins now ask for its code.', 'ok');
      mfa.extra.replaceChildren(
        added,
        codes ?? '',
        h(
          'p',
          {},
          'Your app did not keep the entry? ',
          startOverButton(enrolment.factor_id, codes !== undefined, mfa),
        ),
      );
      // The form and its button are gone: the focus goes to the codes to save, else to the confirmation.
      if (codes !== undefined) codes.focus();
      else {
        added.tabIndex = -1;
        added.focus();
      }
    });
  });
  return form;
}

/** Starts an enrolment and shows its form, the focus on the code field. */
async function showEnrolment(mfa: MfaSection): Promise<void> {
  const enrolment = await jot.json<TotpEnrolmentView>('/api/mfa/totp', { method: 'POST' });
  mfa.extra.replaceChildren(totpEnrolment(enrolment, mfa));
  document.getElementById('totp-code')?.focus();
}

/**
 * "Set up the app again", offered once the app is confirmed: for a user whose app showed a code but did not keep the
 * entry. The key is active by then, so it is not shown again (the server hands a key out only when an enrolment
 * starts; showing a working second factor again would let anyone at this screen copy it unnoticed): the confirmed
 * factor is removed and a new enrolment starts, with a new key. Removing a factor is a step-up action — the code just
 * confirmed counts as the fresh sign-in, so this gives no one more than the factor's Remove button does. With the
 * first factor go two-step verification and the recovery codes just shown; the dialog says so, and confirming the new
 * key brings new codes.
 */
function startOverButton(factorId: string, onlyFactor: boolean, mfa: MfaSection): HTMLButtonElement {
  const again = h('button', { type: 'button', class: 'secondary', id: 'totp-again' }, 'Set up the app again');
  const confirm: ConfirmOptions = {
    title: 'Set up the authenticator app again?',
    text:
      'The key you just added stops working and a new QR code is shown.' +
      (onlyFactor
        ? ' Until you confirm the new key, two-step verification is off and the recovery codes shown stop working; confirming it gives you new ones.'
        : ''),
    confirm: 'Set up again',
  };
  const run = async (): Promise<void> => {
    await jot.json(`/api/mfa/factors/${encodeURIComponent(factorId)}`, { method: 'DELETE' });
    // The codes shown may no longer work: they go at once, whatever happens next.
    mfa.extra.replaceChildren();
    await mfa.render();
    await showEnrolment(mfa);
  };
  return onClick(again, mfa.out, run, { confirm, stepUp: true });
}

/** "Set up an authenticator app": a step-up action that shows the enrolment form. */
export function totpButton(mfa: MfaSection): HTMLButtonElement {
  const start = h('button', { type: 'button', id: 'totp-start' }, 'Set up an authenticator app');
  return onClick(start, mfa.out, () => showEnrolment(mfa), { stepUp: true });
}
