// Every word the client shows goes through t(): this test reads the source
// of web/src and fails on a user-visible string literal that does not.
// It looks at JSX text with letters or Chinese characters, at literal
// aria-label, title, placeholder, alt (and the label props of our own
// components), at string literals shown as JSX children, and, in every
// file, at literals that read as a sentence. Runs without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@babel/parser';

const web = fileURLToPath(new URL('..', import.meta.url));
const src = join(web, 'src');

// Files whose strings are still being moved into a catalogue by their
// owner. Empty this list once their work is merged.
export const pending = ['src/app.tsx', 'src/screens/ChatList.tsx', 'src/screens/Chat.tsx'];

// Text that is not language: the brand, symbols and punctuation, and the
// names of languages, which are written in their own language.
const allowed = new Set(['Plaza', 'English', '简体中文', '@', '×', '·', '…', '—', '–', '/', '›', '‹', '#', '+', '-', '•', '✓', '✕']);
const visibleAttrs = new Set(['aria-label', 'title', 'placeholder', 'alt', 'label', 'hint', 'confirmLabel', 'busyLabel', 'aria-valuetext']);
const letters = /[\p{L}]/u;
const cjk = /[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]/u;
// A sentence: two words or more, the first capitalised, or any Chinese.
const sentence = /^[A-Z][a-z’']*[ ,][^]*[a-z.…!?:)”]$/;

function files(dir) {
  const out = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.tsx?$/.test(n) && !n.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function isAllowed(text) {
  const s = text.trim();
  if (s === '' || allowed.has(s)) return true;
  // Only symbols, digits, punctuation, emoji and allowed words.
  return !letters.test(s.split(/\s+/).filter((w) => !allowed.has(w)).join(' '));
}

/** untranslated returns "file:line: text" for each user-visible literal of one source text. */
export function untranslated(code, name) {
  const ast = parse(code, { sourceType: 'module', plugins: ['jsx', 'typescript'], errorRecovery: false });
  const found = [];
  const report = (node, text) => found.push(`${name}:${node.loc.start.line}: ${JSON.stringify(text.trim())}`);
  const literalTexts = (e) => {
    if (!e) return [];
    if (e.type === 'StringLiteral') return [[e, e.value]];
    if (e.type === 'TemplateLiteral') return e.quasis.map((q) => [q, q.value.cooked ?? '']);
    if (e.type === 'ConditionalExpression') return [...literalTexts(e.consequent), ...literalTexts(e.alternate)];
    if (e.type === 'LogicalExpression') return [...literalTexts(e.left), ...literalTexts(e.right)];
    if (e.type === 'BinaryExpression' && e.operator === '+') return [...literalTexts(e.left), ...literalTexts(e.right)];
    if (e.type === 'TSAsExpression' || e.type === 'ParenthesizedExpression') return literalTexts(e.expression);
    return [];
  };
  const flagged = new Set();
  const flag = (node, text) => {
    if (flagged.has(node)) return;
    flagged.add(node);
    if (!isAllowed(text)) report(node, text);
  };
  // Literals that are not words for people: imports, keys, comparisons, types.
  const skip = new Set(['ImportDeclaration', 'ExportNamedDeclaration', 'ExportAllDeclaration', 'TSLiteralType', 'TSImportType', 'Directive']);

  const walk = (node, parent, key) => {
    if (!node || typeof node.type !== 'string') return;
    if (skip.has(node.type) && node.type !== 'ExportNamedDeclaration') return;
    if (node.type === 'CallExpression') {
      const c = node.callee;
      // t('key') is the way through; console and errors for developers are not shown.
      if (c.type === 'Identifier' && c.name === 't') return;
      if (c.type === 'MemberExpression' && c.object.type === 'Identifier' && c.object.name === 'console') return;
    }
    if (node.type === 'JSXText') {
      if (letters.test(node.value) || cjk.test(node.value)) flag(node, node.value);
    } else if (node.type === 'JSXExpressionContainer' && parent?.type !== 'JSXAttribute') {
      for (const [n, s] of literalTexts(node.expression)) flag(n, s);
    } else if (node.type === 'JSXAttribute') {
      const name = node.name.type === 'JSXNamespacedName' ? `${node.name.namespace.name}:${node.name.name.name}` : node.name.name;
      if (visibleAttrs.has(name)) {
        const v = node.value;
        const exprs = v?.type === 'JSXExpressionContainer' ? literalTexts(v.expression) : v?.type === 'StringLiteral' ? [[v, v.value]] : [];
        for (const [n, s] of exprs) flag(n, s);
      }
    } else if (node.type === 'StringLiteral' || node.type === 'TemplateElement') {
      const s = node.type === 'StringLiteral' ? node.value : node.value.cooked ?? '';
      const asKey = (parent?.type === 'ObjectProperty' || parent?.type === 'TSPropertySignature') && key === 'key';
      const compared = parent?.type === 'BinaryExpression' && /^[!=]==?$/.test(parent.operator);
      const inCase = parent?.type === 'SwitchCase';
      if (!asKey && !compared && !inCase && (cjk.test(s) || sentence.test(s.trim()))) flag(node, s);
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === 'loc' || k === 'start' || k === 'end' || k === 'extra' || k === 'leadingComments' || k === 'trailingComments') continue;
      if (Array.isArray(v)) for (const c of v) walk(c, node, k);
      else if (v && typeof v.type === 'string') walk(v, node, k);
    }
  };
  walk(ast.program, null, null);
  return found;
}

test('every user-visible string in web/src goes through t()', () => {
  const found = [];
  for (const f of files(src).sort()) {
    const name = relative(web, f);
    if (name.startsWith('src/i18n/') || pending.includes(name)) continue;
    found.push(...untranslated(readFileSync(f, 'utf8'), name));
  }
  assert.deepEqual(found, [], `${found.length} strings do not go through t():\n${found.join('\n')}`);
});

/** calls returns each t('key', { … }) of a source text with the names its vars object gives. */
export function calls(code, name) {
  const ast = parse(code, { sourceType: 'module', plugins: ['jsx', 'typescript'] });
  const out = [];
  const walk = (node) => {
    if (!node || typeof node.type !== 'string') return;
    if (node.type === 'CallExpression' && node.callee.type === 'Identifier' && node.callee.name === 't' && node.arguments[0]?.type === 'StringLiteral') {
      const v = node.arguments[1];
      const names = v?.type === 'ObjectExpression' ? v.properties.map((p) => (p.key?.type === 'Identifier' ? p.key.name : p.key?.value)) : v ? null : [];
      out.push({ at: `${name}:${node.loc.start.line}`, key: node.arguments[0].value, names });
    }
    for (const [k, c] of Object.entries(node)) {
      if (k === 'loc') continue;
      if (Array.isArray(c)) c.forEach(walk);
      else if (c && typeof c.type === 'string') walk(c);
    }
  };
  walk(ast.program);
  return out;
}

test('every t() call gives exactly the placeholders its English message has', () => {
  const en = {};
  const dir = join(src, 'i18n', 'en');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) Object.assign(en, JSON.parse(readFileSync(join(dir, f), 'utf8')));
  const placeholders = (m) => [...new Set((typeof m === 'string' ? [m] : Object.values(m)).flatMap((x) => [...x.matchAll(/\{(\w+)\}/g)].map((y) => y[1])))].sort();
  const wrong = [];
  for (const f of files(src).sort()) {
    const name = relative(web, f);
    if (name.startsWith('src/i18n/')) continue;
    for (const c of calls(readFileSync(f, 'utf8'), name)) {
      const m = en[c.key];
      if (m === undefined) {
        wrong.push(`${c.at}: no message ${c.key}`);
        continue;
      }
      if (c.names === null) continue; // vars built elsewhere
      const want = placeholders(m);
      if (typeof m !== 'string') want.push('count'); // a plural is chosen by vars.count
      const got = [...new Set(c.names)].sort();
      if (got.join() !== [...new Set(want)].sort().join()) wrong.push(`${c.at}: ${c.key} gets {${got}} but its message has {${[...new Set(want)].sort()}}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the check finds what it should', () => {
  const code = `
    import { t } from './i18n';
    const msg = 'Something went wrong here.';
    export function A({ n }: { n: number }) {
      if (n === 'Some words here') return null;
      return (
        <div aria-label="Close window" title={n ? 'Yes' : t('x.y')}>
          Hello there
          <img alt="" />
          <input placeholder={\`Search\`} />
          {n > 1 && 'More to come'}
          <span>{t('a.b')} · Plaza ×</span>
          <p>你好</p>
        </div>
      );
    }`;
  const got = untranslated(code, 'x.tsx').map((l) => l.replace(/^x\.tsx:\d+: /, ''));
  assert.deepEqual(got.sort(), ['"Close window"', '"Hello there"', '"More to come"', '"Search"', '"Something went wrong here."', '"Yes"', '"你好"'].sort());
});

test('the pending list only names files that exist', () => {
  for (const p of pending) assert.ok(statSync(join(web, p)).isFile(), `${p} is listed as pending but does not exist`);
});
