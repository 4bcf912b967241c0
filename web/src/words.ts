// Lookup tables of words (a status, an action, a kind of target) whose
// values follow the interface language: each value is read from the
// catalogue when it is used, not when the module loads.
import { Key, t } from './i18n';

/** words turns a table of catalogue keys into a table of messages in the current language. */
export function words<K extends string>(keys: Record<K, Key>): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const [k, key] of Object.entries(keys) as [K, Key][]) {
    Object.defineProperty(out, k, { get: () => t(key), enumerable: true });
  }
  return out;
}
