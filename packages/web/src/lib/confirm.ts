/**
 * Confirmation before a destructive action: a modal `<dialog>` naming what will happen, with the destructive button
 * labelled by its verb and Cancel focused first (Enter never destroys by accident). Escape cancels.
 */
import { h } from './dom.js';
import { Notice } from './dom.js';

/** The user said no; `busy` shows it as information. */
export class ActionCancelled extends Notice {
  override readonly name = 'ActionCancelled';
  constructor() {
    super('Cancelled: nothing was changed.');
  }
}

/** Asks; resolves true only when the user pressed the confirm button. */
export function confirmAction(options: { title: string; text: string; confirm: string }): Promise<boolean> {
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
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      window.removeEventListener('hashchange', onNavigate);
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(ok);
    };
    const onNavigate = (): void => finish(false);
    window.addEventListener('hashchange', onNavigate);
    dialog.addEventListener('cancel', () => finish(false));
    dialog.addEventListener('close', () => finish(false));
    no.addEventListener('click', () => finish(false));
    yes.addEventListener('click', () => finish(true));
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

/** Confirms, then runs `action`; throws {@link ActionCancelled} when the user declines. */
export async function afterConfirm<T>(
  options: { title: string; text: string; confirm: string },
  action: () => Promise<T>,
): Promise<T> {
  if (!(await confirmAction(options))) throw new ActionCancelled();
  return action();
}
