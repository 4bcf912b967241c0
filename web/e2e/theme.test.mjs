// Dark mode and contrast in a real browser: the dark palette follows the
// system unless light was chosen, and applies whenever dark was chosen
// (localStorage 'plaza.theme', as the settings keep it, sets <html
// data-theme>); the browser's theme-color follows. axe-core finds no
// contrast problem (nor any other serious one) on the chat list, an open
// chat with its details and the settings, in light and in dark, on a
// desktop and on a phone.
//
// Run from web/: PLAZA_BIN=/tmp/plaza node --test e2e/theme.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import AxeBuilder from '@axe-core/playwright';
import { launchBrowser, phone } from './harness.mjs';
import { desktop, open, world } from './seed.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const dark = 'rgb(16, 21, 19)';
const light = 'rgb(255, 255, 255)';
const background = (page) => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
const themeColors = (page) =>
  page.evaluate(() => [...document.querySelectorAll('meta[name="theme-color"]')].map((m) => m.getAttribute('content')));

test('dark follows the system unless light is chosen, and applies whenever dark is chosen', async () => {
  const w = await world();
  try {
    const sys = await open(browser, w.server, w.alice, { colorScheme: 'dark' });
    await sys.page.goto('/');
    await sys.page.getByRole('heading', { name: 'Chats' }).waitFor();
    assert.equal(await background(sys.page), dark);
    assert.equal(await sys.page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), true);
    assert.deepEqual(await themeColors(sys.page), ['#f3f5f4', '#171e1b'], 'one theme-color for each system scheme');
    // The system changes its mind: the page follows without a reload.
    await sys.page.emulateMedia({ colorScheme: 'light' });
    assert.equal(await background(sys.page), light);
    await sys.context.close();

    const chosenLight = await open(browser, w.server, w.alice, { colorScheme: 'dark', theme: 'light' });
    await chosenLight.page.goto('/');
    await chosenLight.page.getByRole('heading', { name: 'Chats' }).waitFor();
    assert.equal(await chosenLight.page.evaluate(() => document.documentElement.dataset.theme), 'light');
    assert.equal(await background(chosenLight.page), light);
    assert.deepEqual(await themeColors(chosenLight.page), ['#f3f5f4', '#f3f5f4']);
    await chosenLight.context.close();

    const chosenDark = await open(browser, w.server, w.alice, { colorScheme: 'light', theme: 'dark' });
    await chosenDark.page.goto('/');
    await chosenDark.page.getByRole('heading', { name: 'Chats' }).waitFor();
    assert.equal(await background(chosenDark.page), dark);
    assert.deepEqual(await themeColors(chosenDark.page), ['#171e1b', '#171e1b']);
    // Text and surfaces change with it, not only the page behind them.
    const input = chosenDark.page.getByRole('searchbox', { name: 'Search chats by name' });
    assert.notEqual(await input.evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(255, 255, 255)');
    // Back to light at once when data-theme changes (the settings switch does that).
    await chosenDark.page.evaluate(() => (document.documentElement.dataset.theme = 'light'));
    assert.equal(await background(chosenDark.page), light);
    assert.deepEqual(await themeColors(chosenDark.page), ['#f3f5f4', '#f3f5f4']);
    assert.deepEqual([...chosenDark.problems], []);
    await chosenDark.context.close();
  } finally {
    await w.server.stop();
  }
});

/** audit runs axe-core and returns the contrast findings and any other serious or critical one. */
async function audit(page, where) {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return r.violations
    .filter((v) => v.id === 'color-contrast' || v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${where}: ${v.id} (${v.impact}): ${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary?.split('\n').slice(1, 2).join('') ?? ''}`).slice(0, 4).join(' | ')}`);
}

async function auditScreens(w, acct, opts) {
  const found = [];
  const label = `${opts.viewport === phone ? 'phone' : 'desktop'} ${opts.colorScheme}`;
  const { page, context, problems } = await open(browser, w.server, acct, opts);
  await page.goto('/');
  await page.getByRole('link', { name: /Weekend hike/ }).getByText('See you there').waitFor();
  found.push(...(await audit(page, `${label} chat list`)));

  await page.goto(`/chats/${w.group.id}`);
  await page.locator('.messages li.msg', { hasText: 'See you there' }).waitFor();
  await page.locator('.msg-sender', { hasText: 'Carol Zhang' }).waitFor();
  found.push(...(await audit(page, `${label} open chat`)));
  await page.getByRole('button', { name: 'Group info' }).click();
  await page.getByRole('complementary', { name: 'Group info' }).getByText('Carol Zhang (@carol)').waitFor();
  found.push(...(await audit(page, `${label} chat details`)));

  await page.goto('/settings');
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  await page.getByLabel('Your account ID').waitFor();
  found.push(...(await audit(page, `${label} settings`)));
  assert.deepEqual(problems, []);
  await context.close();
  return found;
}

for (const colorScheme of ['light', 'dark']) {
  test(`axe finds no contrast or serious problem in ${colorScheme}`, async () => {
    const w = await world();
    try {
      const found = [
        ...(await auditScreens(w, w.alice, { viewport: desktop, colorScheme })),
        ...(await auditScreens(w, w.alice, { viewport: phone, colorScheme })),
      ];
      assert.deepEqual(found, []);
    } finally {
      await w.server.stop();
    }
  });
}
