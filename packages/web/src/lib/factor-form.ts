/**
 * The second-factor prompt shared by the sign-in's second step and the step-up dialog: one field that takes the
 * 6-digit code of the authenticator app or a recovery code, and a "Use a passkey" button when the account has one.
 */
import type { MfaProof } from '@jot/client';

import { busy, field, h } from './dom.js';
import { passkeyAssertion, passkeysSupported } from './passkeys.js';

/** What the form does with a proof. */
export interface FactorFormOptions {
  /** Id prefix of the controls (two forms may be on screen). */
  id: string;
  /** The methods the account has (`totp`, `webauthn`, `recovery_code`). */
  methods: readonly string[];
  /** WebAuthn options for the passkey button. */
  passkeyOptions: () => Promise<Record<string, unknown>>;
  /** Sends the proof; throws to show an error. */
  submit: (proof: MfaProof) => Promise<void>;
}

/** A typed code as a proof: six digits are an app code, anything else a recovery code. */
export function codeProof(value: string): MfaProof {
  const code = value.replace(/\s/g, '');
  return /^\d{6}$/.test(code) ? { code } : { recoveryCode: value.trim() };
}

/** Builds the form (its outcome line included). */
export function factorForm(options: FactorFormOptions): HTMLFormElement {
  const hasApp = options.methods.includes('totp');
  // Recovery codes hold letters: a numeric keypad (which phones cannot switch from) only while an app code is asked.
  const code = h('input', {
    id: `${options.id}-code`,
    name: 'code',
    type: 'text',
    inputmode: hasApp ? 'numeric' : 'text',
    autocapitalize: 'none',
    spellcheck: 'false',
    autocomplete: 'one-time-code',
    required: true,
    maxlength: '40',
  });
  const out = h('div', { id: `${options.id}-out`, 'aria-live': 'polite' });
  const verify = h('button', { type: 'submit' }, 'Verify');
  const form = h(
    'form',
    { class: 'factor-form' },
    hasApp || options.methods.includes('recovery_code')
      ? field(
          hasApp ? 'Code from your authenticator app' : 'Recovery code',
          code,
          'Lost your device? Type one of your recovery codes instead.',
        )
      : null,
    h('div', { class: 'actions' }, hasApp || options.methods.includes('recovery_code') ? verify : null),
    out,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(verify, out, async () => {
      try {
        await options.submit(codeProof(code.value));
      } finally {
        code.value = '';
        code.focus();
      }
    });
  });
  if (hasApp && options.methods.includes('recovery_code'))
    form.querySelector('.actions')!.append(recoveryToggle(code));
  if (options.methods.includes('webauthn') && passkeysSupported()) {
    const passkey = h(
      'button',
      { type: 'button', class: 'secondary', id: `${options.id}-passkey` },
      'Use a passkey',
    );
    passkey.addEventListener('click', () => {
      void busy(passkey, out, async () => {
        const assertion = await passkeyAssertion(await options.passkeyOptions());
        await options.submit({ passkey: assertion });
      });
    });
    form.querySelector('.actions')!.append(passkey);
  }
  return form;
}

/** "Use a recovery code": the field takes letters (a text keyboard) and says what it now expects. */
function recoveryToggle(code: HTMLInputElement): HTMLButtonElement {
  const toggle = h(
    'button',
    { type: 'button', class: 'secondary', id: `${code.id}-recovery` },
    'Use a recovery code',
  );
  toggle.addEventListener('click', () => {
    code.inputMode = 'text';
    const label = code.labels?.[0];
    if (label !== undefined) label.textContent = 'Recovery code';
    toggle.remove();
    code.focus();
  });
  return toggle;
}
