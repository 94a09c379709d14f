/**
 * Confirmation before a destructive action: a modal `<dialog>` naming what will happen, with the destructive button
 * labelled by its verb and Cancel focused first (Enter never destroys by accident). Escape cancels.
 */
import { h, Notice } from './dom.js';
import { showModal } from './modal.js';

/** The user said no; `busy` shows it as information. */
export class ActionCancelled extends Notice {
  override readonly name = 'ActionCancelled';
  constructor() {
    super('Cancelled: nothing was changed.');
  }
}

/** What the dialog says: its title, the consequence, and the destructive button's verb. */
export interface ConfirmOptions {
  title: string;
  text: string;
  confirm: string;
}

/** Asks; resolves true only when the user pressed the confirm button. */
export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const yes = h('button', { type: 'button', class: 'danger' }, options.confirm);
    const no = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const dialog = h(
      'dialog',
      { class: 'step-up confirm', 'aria-labelledby': 'confirm-h', 'aria-describedby': 'confirm-desc' },
      h('h2', { id: 'confirm-h' }, options.title),
      h('p', { id: 'confirm-desc' }, options.text),
      h('div', { class: 'actions' }, yes, no),
    );
    const finish = showModal(dialog, resolve, { cancel: no });
    yes.addEventListener('click', () => finish(true));
    no.focus();
  });
}

/** Confirms, then runs `action`; throws {@link ActionCancelled} when the user declines. */
export async function afterConfirm<T>(options: ConfirmOptions, action: () => Promise<T>): Promise<T> {
  if (!(await confirmAction(options))) throw new ActionCancelled();
  return action();
}
