// The message catalogues: every key in one language is in the other, with
// the same placeholders and plural categories, so no screen shows a raw key
// or a half-translated sentence. Runs without a browser or a server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';

const dir = new URL('../src/i18n/', import.meta.url);
const languages = ['en', 'zh-CN'];
// Each language has the same area files; a key lives in exactly one area.
const load = (lang) => {
  const all = {};
  for (const f of readdirSync(new URL(`${lang}/`, dir)).filter((n) => n.endsWith('.json')).sort()) {
    const part = JSON.parse(readFileSync(new URL(`${lang}/${f}`, dir), 'utf8'));
    for (const [k, v] of Object.entries(part)) {
      assert.ok(!(k in all), `${lang}: key ${k} is in two area files`);
      all[k] = v;
    }
  }
  return all;
};
const catalogues = Object.fromEntries(languages.map((l) => [l, load(l)]));

test('every language has the same area files', () => {
  const files = (l) => readdirSync(new URL(`${l}/`, dir)).filter((n) => n.endsWith('.json')).sort();
  assert.deepEqual(files('zh-CN'), files('en'));
});

const placeholders = (m) =>
  [...new Set((typeof m === 'string' ? [m] : Object.values(m)).flatMap((s) => [...s.matchAll(/\{(\w+)\}/g)].map((x) => x[1])))].sort();

test('every key is in every catalogue', () => {
  const [a, b] = Object.entries(catalogues);
  const missing = [];
  for (const [from, to] of [[a, b], [b, a]]) {
    for (const key of Object.keys(from[1])) if (!(key in to[1])) missing.push(`${key} missing in ${to[0]}`);
  }
  assert.deepEqual(missing, []);
});

test('translations keep their placeholders and plural forms', () => {
  const wrong = [];
  for (const [key, m] of Object.entries(catalogues.en)) {
    const z = catalogues['zh-CN'][key];
    if (z === undefined) continue;
    if (typeof m !== typeof z) wrong.push(`${key}: a plural in one catalogue only`);
    else if (placeholders(m).join() !== placeholders(z).join()) wrong.push(`${key}: placeholders ${placeholders(m)} vs ${placeholders(z)}`);
    if (typeof m === 'object' && !('other' in m && 'other' in z)) wrong.push(`${key}: a plural needs "other"`);
    for (const [l, v] of [['en', m], ['zh-CN', z]]) {
      const strs = typeof v === 'string' ? [v] : Object.values(v);
      if (strs.some((s) => typeof s !== 'string' || s.trim() === '')) wrong.push(`${key}: empty in ${l}`);
    }
  }
  assert.deepEqual(wrong, []);
});
