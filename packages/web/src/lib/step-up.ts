/**
 * Step-up (RFC 9470) for the admin pages: when the server refuses an action because the password was last entered
 * too long ago, a modal `<dialog>` asks for it ("Confirm your password to continue"), `jot.reauthenticate()` gets
 * a token with a fresh `auth_time`, and the action is retried once. A wrong password is shown in the dialog; Escape
 * or Cancel gives up. Focus moves into the dialog and comes back to the button that started the action.
 */
import { isStepUpError, JotClientError } from '@jot/client';

import { busy, failure, field, h, Notice } from './dom.js';
import { showModal } from './modal.js';
import { currentUser, jot } from './session.js';
import { askSecondFactor, myMethods } from './step-up-mfa.js';

/** The user closed the password dialog without confirming; `busy` shows it as information, not as a failure. */
export class StepUpCancelled extends Notice {
  override readonly name = 'StepUpCancelled';
  constructor() {
    super('Cancelled: this action needs your password.');
  }
}

let pending: Promise<boolean> | undefined;

/** Asks for the password; resolves true once `jot.reauthenticate` accepted it, false when the user gave up. */
export function confirmPassword(): Promise<boolean> {
  // Two actions refused at once share one dialog. A user with a second factor confirms with it (acr aal2).
  pending ??= myMethods()
    .then((methods) => (methods.length > 0 ? askSecondFactor(methods) : askPassword()))
    .finally(() => {
      pending = undefined;
    });
  return pending;
}

/** The password dialog's parts. */
interface PasswordDialog {
  dialog: HTMLDialogElement;
  form: HTMLFormElement;
  password: HTMLInputElement;
  out: HTMLElement;
  confirm: HTMLButtonElement;
  cancel: HTMLButtonElement;
}

function passwordDialog(email: string | undefined): PasswordDialog {
  const password = h('input', {
    id: 'step-up-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  // The outcome line: an error arrives as role="alert" (see `busy`), so it is announced at once.
  const out = h('div', { id: 'step-up-out' });
  const confirm = h('button', { type: 'submit' }, 'Confirm');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const form = h(
    'form',
    {},
    h('h2', { id: 'step-up-h' }, 'Confirm your password to continue'),
    h(
      'p',
      { id: 'step-up-desc' },
      'This action needs a recent sign-in. Enter your password to confirm it is you.',
    ),
    // For password managers: the account the password belongs to.
    email === undefined
      ? null
      : h('input', { type: 'email', autocomplete: 'username', value: email, hidden: true, readonly: true }),
    field('Password', password),
    out,
    h('div', { class: 'actions' }, confirm, cancel),
  );
  const dialog = h(
    'dialog',
    { class: 'step-up', 'aria-labelledby': 'step-up-h', 'aria-describedby': 'step-up-desc' },
    form,
  );
  return { dialog, form, password, out, confirm, cancel };
}

/** Sends the typed password; a refusal empties and marks the field and says so in the dialog. */
async function reauthenticate(password: HTMLInputElement): Promise<void> {
  try {
    await jot.reauthenticate(password.value);
  } catch (err) {
    password.value = '';
    password.setAttribute('aria-invalid', 'true');
    password.setAttribute('aria-errormessage', 'step-up-out');
    password.focus();
    if (err instanceof JotClientError && err.code === 'ERR_INVALID_CREDENTIALS')
      throw new Error('That password is not correct. Try again.');
    throw err;
  }
}

function askPassword(): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const parts = passwordDialog(currentUser()?.user.email);
    // The session ended (here or in another tab), or the user navigated away: the question is moot.
    const finish = showModal(parts.dialog, resolve, {
      cancel: parts.cancel,
      giveUpOn: (giveUp) => jot.on('session:ended', giveUp),
    });
    parts.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void busy(parts.confirm, parts.out, async () => {
        await reauthenticate(parts.password);
        finish(true);
      });
    });
    // The modal makes the rest of the page inert and lets Escape cancel; focus goes to the password field.
    parts.password.focus();
  });
}

/**
 * Runs `action`; if the server asks for a step-up, confirms the password and runs it once more. `opener` (the
 * button that started the action) gets the focus back afterwards — or, when the page re-rendered it, the element
 * that now has its id. Put the whole action inside (the change and the re-render that follows it), so focus is
 * returned once the page has settled.
 */
export async function withStepUp<T>(opener: HTMLElement, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (!isStepUpError(err)) throw err;
    const confirmed = await confirmPassword();
    try {
      if (!confirmed) throw new StepUpCancelled();
      return await action();
    } finally {
      returnFocus(opener);
    }
  }
}

/** Focuses `el` once the current action has finished (`busy` re-enables its button just before). */
function returnFocus(el: HTMLElement): void {
  setTimeout(() => {
    const now = el.isConnected ? el : el.id !== '' ? document.getElementById(el.id) : null;
    // Only when focus is nowhere in particular: never steal it from where the user has since moved it.
    const active = document.activeElement;
    if (now !== null && (active === null || active === document.body)) now.focus();
  });
}

/**
 * Loads a page's content through `withStepUp`, showing a failure in `out`: a page whose very reading needs a recent
 * (two-factor) sign-in — every admin page when `JOT_MFA_REQUIRED` covers admins and the session is one-factor —
 * asks for it instead of stopping at the server's message.
 */
export function loadWithStepUp(
  opener: HTMLElement,
  out: HTMLElement,
  load: () => Promise<void>,
): Promise<void> {
  return withStepUp(opener, load).catch((err: unknown) => {
    out.replaceChildren(failure(err));
  });
}
