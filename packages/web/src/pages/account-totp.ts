/**
 * Setting up an authenticator app on the account page: the QR code (drawn here as SVG) and the secret as text,
 * confirmed by a first code; the first factor's answer carries the recovery codes, shown once.
 */
import type { TotpEnrolmentView } from '@jot/contract';

import { onClick } from '../lib/actions.js';
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
  const result = outcome();
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
      // Through the client: the session goes on with the answer's aal2 tokens (`session:refreshed`).
      const answer = await jot.confirmTotp(enrolment.factor_id, code.value);
      await mfa.render();
      const codes = answer.recoveryCodes === undefined ? undefined : recoveryCodes(answer.recoveryCodes);
      const added = message('Authenticator app added: sign-ins now ask for its code.', 'ok');
      mfa.extra.replaceChildren(added, codes ?? '');
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

/** "Set up an authenticator app": a step-up action that shows the enrolment form. */
export function totpButton(mfa: MfaSection): HTMLButtonElement {
  const start = h('button', { type: 'button', id: 'totp-start' }, 'Set up an authenticator app');
  const run = async (): Promise<void> => {
    const enrolment = await jot.json<TotpEnrolmentView>('/api/mfa/totp', { method: 'POST' });
    mfa.extra.replaceChildren(totpEnrolment(enrolment, mfa));
    document.getElementById('totp-code')?.focus();
  };
  return onClick(start, mfa.out, run, { stepUp: true });
}
