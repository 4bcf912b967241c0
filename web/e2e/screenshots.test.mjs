// Screenshots of the messenger layout for docs/screenshots: a phone
// (390×844, the chat list with the tab bar) and a desktop (1440×900, the
// list beside an open group chat with its details), each in light and
// dark, in English and in Chinese (the browser's language zh-CN):
// {phone,desktop}-{light,dark}-{en,zh}.png.
//
// Run from web/: PLAZA_BIN=/tmp/plaza node --test e2e/screenshots.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launchBrowser, phone, shots } from './harness.mjs';
import { desktop, open, world } from './seed.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('screenshots of the layout, light and dark, English and Chinese', async () => {
  const w = await world();
  try {
    for (const [lang, locale] of [['en', 'en-US'], ['zh', 'zh-CN']]) {
      for (const colorScheme of ['light', 'dark']) {
        const ph = await open(browser, w.server, w.alice, { viewport: phone, colorScheme, locale });
        await ph.page.goto('/');
        await ph.page.locator('.chat-row', { hasText: 'See you there' }).waitFor();
        await ph.page.locator('.chat-row', { hasText: 'Carol Zhang' }).waitFor();
        assert.equal(await ph.page.evaluate(() => document.documentElement.lang), lang === 'zh' ? 'zh-CN' : 'en');
        await ph.page.screenshot({ path: join(shots, `phone-${colorScheme}-${lang}.png`) });
        assert.deepEqual(ph.problems, []);
        await ph.context.close();

        const dt = await open(browser, w.server, w.alice, { viewport: desktop, colorScheme, locale });
        await dt.page.goto(`/chats/${w.group.id}`);
        await dt.page.locator('.messages li.msg', { hasText: 'See you there' }).waitFor();
        await dt.page.locator('.msg-sender', { hasText: 'Carol Zhang' }).waitFor();
        await dt.page.locator('.chat-row', { hasText: 'Bob Li' }).waitFor();
        await dt.page.locator('.chat-head button[aria-controls="chat-details"]').click();
        await dt.page.locator('#chat-details .members li', { hasText: 'Carol Zhang' }).waitFor();
        await dt.page.locator('#chat-details .members li', { hasText: 'Bob Li' }).waitFor();
        await dt.page.screenshot({ path: join(shots, `desktop-${colorScheme}-${lang}.png`) });
        assert.deepEqual(dt.problems, []);
        await dt.context.close();
      }
    }
  } finally {
    await w.server.stop();
  }
});
