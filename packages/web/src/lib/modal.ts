/**
 * A modal `<dialog>` that answers once: `showModal()` makes the rest of the page inert; Escape (the browser fires
 * `cancel`, then closes the dialog), closing it, a Cancel button and navigating away all answer false. Used by the
 * confirmation and the step-up dialogs.
 */

/** What else ends the question. */
export interface ModalOptions {
  /** A button that answers false. */
  cancel?: HTMLButtonElement;
  /** Another reason the question is moot (the session ended): subscribes `giveUp`, returns the unsubscribe. */
  giveUpOn?: (giveUp: () => void) => () => void;
}

/**
 * Shows `dialog` and returns `finish`, which closes and removes it and calls `answer` — the first time only. The
 * caller moves the focus into the dialog.
 */
export function showModal(
  dialog: HTMLDialogElement,
  answer: (ok: boolean) => void,
  options: ModalOptions = {},
): (ok: boolean) => void {
  let settled = false;
  const finish = (ok: boolean): void => {
    if (settled) return;
    settled = true;
    off?.();
    window.removeEventListener('hashchange', onNavigate);
    if (dialog.open) dialog.close();
    dialog.remove();
    answer(ok);
  };
  const onNavigate = (): void => finish(false);
  const off = options.giveUpOn?.(() => finish(false));
  window.addEventListener('hashchange', onNavigate);
  dialog.addEventListener('cancel', () => finish(false));
  dialog.addEventListener('close', () => finish(false));
  options.cancel?.addEventListener('click', () => finish(false));
  document.body.append(dialog);
  dialog.showModal();
  return finish;
}
