// Small shared pieces: a labelled field, an error box in plain words,
// and time formatting.
import { ComponentChildren } from 'preact';
import { explain } from './errors';

interface FieldProps {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  children: ComponentChildren;
}

/** Field wraps one control with its label, hint and error, linked for screen readers. */
export function Field({ id, label, error, hint, children }: FieldProps) {
  return (
    <div class={error ? 'field field-invalid' : 'field'}>
      <label for={id}>{label}</label>
      {children}
      {hint && !error && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** describedBy returns the aria-describedby value matching Field's hint or error. */
export function describedBy(id: string, error?: string, hint?: string): string | undefined {
  if (error) return `${id}-error`;
  if (hint) return `${id}-hint`;
  return undefined;
}

/** ErrorBox explains a refusal in plain words, with what to do next. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = explain(error);
  return (
    <div class="error-box" role="alert">
      <strong>{e.title}</strong>
      <span> {e.next}</span>
    </div>
  );
}

export function shortTime(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) {
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}
