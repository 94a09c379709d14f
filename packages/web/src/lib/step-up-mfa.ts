/**
 * Step-up with a second factor (RFC 9470 `acr_values="aal2"`): for a user who has one, the step-up dialog asks for
 * a code, a recovery code or a passkey instead of the password, and `jot.stepUp()` adopts the stronger token.
 */
import type { MfaStatusView } from '@jot/contract';

import { h } from './dom.js';
import { factorForm } from './factor-form.js';
import { showModal } from './modal.js';
import { jot } from './session.js';

/** The signed-in user's second-factor methods; empty when they have none (or it cannot be told). */
export async function myMethods(): Promise<string[]> {
  const status = await jot.json<MfaStatusView>('/api/mfa').catch(() => undefined);
  if (status === undefined || !status.enabled) return [];
  const kinds = new Set<string>(status.factors.map((f) => f.kind));
  if (status.recovery_codes_left > 0) kinds.add('recovery_code');
  return [...kinds];
}

/** Opens the dialog; resolves true once a factor was accepted, false when the user gave up. */
export function askSecondFactor(methods: readonly string[]): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const form = factorForm({
      id: 'step-up-mfa',
      methods,
      passkeyOptions: () => jot.stepUpPasskeyOptions(),
      submit: async (proof) => {
        await jot.stepUp(proof);
        finish(true);
      },
    });
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    form.querySelector('.actions')!.append(cancel);
    const dialog = h(
      'dialog',
      { class: 'step-up', 'aria-labelledby': 'step-up-mfa-h', 'aria-describedby': 'step-up-mfa-desc' },
      h('h2', { id: 'step-up-mfa-h' }, 'Confirm it is you'),
      h('p', { id: 'step-up-mfa-desc' }, 'This action needs a fresh confirmation with your second factor.'),
      form,
    );
    const finish = showModal(dialog, resolve, {
      cancel,
      giveUpOn: (giveUp) => jot.on('session:ended', giveUp),
    });
    (dialog.querySelector('input') ?? dialog.querySelector('button'))?.focus();
  });
}
