/**
 * The one way a page runs an action from a button or a form: the button is disabled while it runs and the outcome
 * goes to an outcome line (`busy`), a destructive action is confirmed first (lib/confirm.ts), and a step-up action
 * asks for a fresh password or second factor when the server wants one, then runs once more (lib/step-up.ts).
 */
import { afterConfirm, type ConfirmOptions } from './confirm.js';
import { busy } from './dom.js';
import { withStepUp } from './step-up.js';

/** How an action is guarded. */
export interface ActionOptions {
  /** Ask first, in a dialog (a destructive action). */
  confirm?: ConfirmOptions | undefined;
  /** The server may ask for a recent sign-in (admin changes, second factors, email, deletion). */
  stepUp?: boolean;
}

/** An action: resolves the success message (or nothing), throws to show an error. */
export type Action = () => Promise<string | void>;

/** Runs `action` for `trigger` now: confirm, step-up, outcome in `out`. */
export function runAction(
  trigger: HTMLButtonElement,
  out: HTMLElement,
  action: Action,
  options: ActionOptions = {},
): Promise<void> {
  const guarded: Action = options.stepUp === true ? () => withStepUp(trigger, action) : action;
  const { confirm } = options;
  return busy(trigger, out, confirm === undefined ? guarded : () => afterConfirm(confirm, guarded));
}

/** Runs `action` whenever `button` is clicked; returns the button. */
export function onClick(
  button: HTMLButtonElement,
  out: HTMLElement,
  action: Action,
  options: ActionOptions = {},
): HTMLButtonElement {
  button.addEventListener('click', () => void runAction(button, out, action, options));
  return button;
}

/** Runs `action` whenever `form` is submitted, with `submit` as its button; returns the form. */
export function onSubmit(
  form: HTMLFormElement,
  submit: HTMLButtonElement,
  out: HTMLElement,
  action: Action,
  options: ActionOptions = {},
): HTMLFormElement {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void runAction(submit, out, action, options);
  });
  return form;
}
