// Small shared pieces: a labelled field, an error box in plain words,
// and time formatting.
import { ComponentChildren } from 'preact';
import { explain } from './errors';
import { formatDate, formatTime, lang } from './i18n';

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
    return formatTime(d);
  }
  return formatDate(d, { month: 'short', day: 'numeric' });
}

const byteUnits = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'];

/** formatBytes writes a size in the largest fitting unit of 1,000: 999 bytes, 1.2 MB. */
export function formatBytes(n: number): string {
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1000 && i < byteUnits.length - 1) {
    v /= 1000;
    i++;
  }
  return new Intl.NumberFormat(lang(), {
    style: 'unit',
    unit: byteUnits[i],
    unitDisplay: i === 0 ? 'long' : 'short',
    maximumFractionDigits: v < 10 && i > 0 ? 1 : 0,
  }).format(v);
}

/** longDay writes a date without the time: 5 Dec 2025. */
export function longDay(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : formatDate(d);
}
