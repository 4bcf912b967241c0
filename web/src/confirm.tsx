// A modal confirmation for what cannot be undone: the browser's own
// <dialog>, so focus stays in it, Escape cancels and the page behind is
// inert. Cancel has the focus at first, so a stray Enter does no harm.
// Focus can only leave a modal dialog once it is closed, so the dialog
// itself moves it to where the caller says when it goes away.
import { ComponentChildren, RefObject } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ErrorBox } from './ui';
import { t } from './i18n';

interface Props {
  /** id prefix for the title and description. */
  id: string;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  busyLabel: string;
  busy: boolean;
  error?: unknown;
  onConfirm: () => void;
  onCancel: () => void;
  /** focusAfter holds the element to focus once the dialog has closed. */
  focusAfter: RefObject<HTMLElement | null>;
}

/** ConfirmDialog asks before a destructive step; when it goes, focus moves to focusAfter. */
export function ConfirmDialog({ id, title, children, confirmLabel, busyLabel, busy, error, onConfirm, onCancel, focusAfter }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    d?.querySelector<HTMLButtonElement>('button[data-cancel]')?.focus();
    return () => {
      d?.close();
      focusAfter.current?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class="modal"
      role="alertdialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-desc`}
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      <div id={`${id}-desc`}>{children}</div>
      <ErrorBox error={error} />
      <div class="row modal-actions">
        <button type="button" data-cancel onClick={onCancel} disabled={busy}>
          {t('confirm.cancel')}
        </button>
        <button type="button" class="primary danger-button" onClick={onConfirm} disabled={busy} aria-busy={busy}>
          {busy ? busyLabel : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
