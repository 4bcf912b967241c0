// The colour theme: the system's setting unless the person chose light or
// dark in settings. style.css keys the dark palette on
// prefers-color-scheme and on <html data-theme>.
export type Theme = 'system' | 'light' | 'dark';
export const themes: readonly Theme[] = ['system', 'light', 'dark'];
const storageKey = 'plaza.theme';

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function getTheme(): Theme {
  const t = storage()?.getItem(storageKey);
  return t === 'light' || t === 'dark' ? t : 'system';
}

export function setTheme(t: Theme): void {
  apply(t);
  if (t === 'system') storage()?.removeItem(storageKey);
  else storage()?.setItem(storageKey, t);
}

function apply(t: Theme): void {
  if (t === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
}

apply(getTheme());
