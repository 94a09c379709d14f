/**
 * The sign-in's second step (the account has a second factor: code, recovery code or passkey) and the passwordless
 * "Sign in with a passkey" button.
 */
import type { JotMfaRequiredError } from '@jot/client';

import { busy, h } from '../lib/dom.js';
import { factorForm } from '../lib/factor-form.js';
import { passkeyAssertion, passkeysSupported } from '../lib/passkeys.js';
import { goOnAfterSignIn } from '../lib/return-to.js';
import { jot, loadUser } from '../lib/session.js';

/** Loads the signed-in user and goes on: back to the page that sent them here, or the account page. */
async function signedIn(): Promise<void> {
  await loadUser();
  goOnAfterSignIn();
}

/** Replaces the password form's contents with the second step for `challenge`. */
export function showSecondStep(form: HTMLFormElement, challenge: JotMfaRequiredError): void {
  const step = factorForm({
    id: 'signin-mfa',
    methods: challenge.methods,
    passkeyOptions: () => jot.passkeyOptions(challenge.mfaToken),
    submit: async (proof) => {
      await jot.completeMfa(challenge.mfaToken, proof);
      await signedIn();
    },
  });
  const restart = h('a', { href: '#/signin' }, 'Start again');
  restart.addEventListener('click', (event) => {
    event.preventDefault();
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  });
  form.replaceWith(
    h(
      'section',
      { 'aria-labelledby': 'signin-mfa-h', class: 'second-step' },
      h('h2', { id: 'signin-mfa-h', tabindex: '-1' }, 'Two-step verification'),
      h(
        'p',
        {},
        'Your password was right. Confirm it is you with your second factor (this step expires in ',
        String(Math.round(challenge.expiresIn / 60)),
        ' minutes).',
      ),
      step,
      h('p', {}, restart),
    ),
  );
  (document.getElementById('signin-mfa-code') ?? document.getElementById('signin-mfa-passkey'))?.focus();
}

/** The passwordless sign-in button (nothing when the browser has no WebAuthn). */
export function passkeySignIn(): HTMLElement | null {
  if (!passkeysSupported()) return null;
  const out = h('div', { 'aria-live': 'polite' });
  const button = h(
    'button',
    { type: 'button', class: 'secondary', id: 'signin-passkey' },
    'Continue with a passkey',
  );
  button.addEventListener('click', () => {
    void busy(button, out, async () => {
      const assertion = await passkeyAssertion(await jot.passkeyOptions());
      await jot.loginWithPasskey(assertion);
      await signedIn();
    });
  });
  return h('div', { class: 'passkey-signin' }, h('p', {}, 'No password? ', button), out);
}
