// The first screen's script stays small: the entry script index.html loads,
// plus one language's catalogue, gzipped, under 120 KB. Checked on the
// committed build (internal/webui/dist), which CI rebuilds and compares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dist = new URL('../../internal/webui/dist/', import.meta.url);
const LIMIT = 120 * 1024;

test('the first screen loads under 120 KB of gzipped JavaScript', () => {
  const html = readFileSync(new URL('index.html', dist), 'utf8');
  const entries = [...html.matchAll(/src="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  assert.ok(entries.length > 0, 'index.html loads a script');
  const sizes = {};
  for (const lang of ['en', 'zh-CN']) {
    let total = 0;
    for (const e of entries) {
      const js = readFileSync(new URL(e, dist));
      total += gzipSync(js, { level: 9 }).length;
      // The catalogue of the language in use is imported before the first render.
      const chunk = js.toString().match(new RegExp(`\\./(${lang.replace('-', '\\-')}-[\\w-]+\\.js)`));
      assert.ok(chunk, `${e} imports the ${lang} catalogue`);
      total += gzipSync(readFileSync(new URL(`assets/${chunk[1]}`, dist)), { level: 9 }).length;
    }
    sizes[lang] = total;
    assert.ok(total < LIMIT, `first screen in ${lang}: ${(total / 1024).toFixed(1)} KB gzipped, limit 120 KB`);
  }
  console.log(`first screen, gzipped: en ${(sizes.en / 1024).toFixed(1)} KB, zh-CN ${(sizes['zh-CN'] / 1024).toFixed(1)} KB`);
});
