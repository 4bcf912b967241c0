// Every string the client shows comes from a message catalogue: one per
// language, the same keys in each (e2e/catalogue.test.mjs fails on a key
// missing from either). Components call t(key, vars); nothing else picks
// words.
//
// Catalogues are split by area so that work on one area does not touch
// another's file; each language has the same files, gathered by its
// index.ts. Only the language in use is loaded (loadLang), so the first
// screen carries one catalogue, not two.
import type * as English from './en/index';

export type Lang = 'en' | 'zh-CN';
export const languages: readonly Lang[] = ['en', 'zh-CN'];
export type Key = keyof typeof English.default;

/**
 * A message is a string with {name} placeholders, or, for a count, one
 * string per plural category of Intl.PluralRules ("one", "other", …) and
 * the count given as vars.count.
 */
type Message = string | Partial<Record<Intl.LDMLPluralRule, string>>;

type Catalogue = Record<string, Message>;
const loaders: Record<Lang, () => Promise<{ default: Catalogue }>> = {
  en: () => import('./en/index'),
  'zh-CN': () => import('./zh-CN/index'),
};
const catalogues: Partial<Record<Lang, Catalogue>> = {};

/** loadLang fetches a language's catalogue once; main.tsx awaits the first before rendering. */
export async function loadLang(l: Lang = current): Promise<void> {
  catalogues[l] ??= (await loaders[l]()).default;
}
const storageKey = 'plaza.lang';

let current: Lang = initial();
let plurals = new Intl.PluralRules(current);
const listeners = new Set<(l: Lang) => void>();
document.documentElement.lang = current;

/** initial is the language chosen in settings, else the browser's first that Plaza speaks. */
function initial(): Lang {
  const saved = safeStorage()?.getItem(storageKey);
  if (saved && (languages as string[]).includes(saved)) return saved as Lang;
  return fromBrowser(navigator.languages ?? [navigator.language]);
}

/** fromBrowser picks the first of the browser's languages that Plaza has: any Chinese is zh-CN. */
export function fromBrowser(prefs: readonly string[]): Lang {
  for (const p of prefs) {
    const l = p.toLowerCase();
    if (l === 'zh' || l.startsWith('zh-')) return 'zh-CN';
    if (l === 'en' || l.startsWith('en-')) return 'en';
  }
  return 'en';
}

function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: the choice lasts for this page only
  }
}

export function lang(): Lang {
  return current;
}

/**
 * setLang switches the interface language once its catalogue is loaded,
 * remembers it, and re-renders whoever listens.
 */
export async function setLang(l: Lang): Promise<void> {
  if (l === current) return;
  await loadLang(l);
  current = l;
  plurals = new Intl.PluralRules(l);
  document.documentElement.lang = l;
  safeStorage()?.setItem(storageKey, l);
  for (const f of listeners) f(l);
}

export function onLangChange(f: (l: Lang) => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

export type Vars = Record<string, string | number>;

/** t renders a catalogue message in the current language. */
export function t(key: Key, vars?: Vars): string {
  let m = catalogues[current]?.[key];
  if (m === undefined) return key;
  if (typeof m !== 'string') {
    const n = Number(vars?.count ?? 0);
    m = m[plurals.select(n)] ?? m.other ?? '';
  }
  return vars ? interpolate(m, vars) : m;
}

function interpolate(s: string, vars: Vars): string {
  return s.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined) return whole;
    return typeof v === 'number' ? formatNumber(v) : v;
  });
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(current).format(n);
}

/** formatTime and formatDate show times the way the person's language writes them. */
export function formatTime(d: Date): string {
  return new Intl.DateTimeFormat(current, { hour: 'numeric', minute: '2-digit' }).format(d);
}

export function formatDate(d: Date, opts: Intl.DateTimeFormatOptions = { dateStyle: 'medium' }): string {
  return new Intl.DateTimeFormat(current, opts).format(d);
}

export function formatDateTime(d: Date): string {
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}
