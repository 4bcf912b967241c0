// Offline: once the app has run, it opens without a network (the service
// worker keeps its shell) and shows the latest conversations and messages
// it saw; signing out wipes that copy. Each test has its own server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { account, launchBrowser, person, poll, startServer } from './harness.mjs';

async function chatPair(server) {
  const a = await account(server, 'reader', 'Rei Reader');
  const b = await account(server, 'writer', 'Wen Writer');
  const conv = await server.call(a.token, 'POST', '/conversations', { kind: 'direct', member_ids: [b.id] });
  for (const [i, text] of ['offline hello one', '离线也能读这条消息'].entries()) {
    await server.call(b.token, 'POST', `/conversations/${conv.id}/messages`, { client_id: `c${i}`, kind: 'text', text });
  }
  return { a, b, conv };
}

test('the latest conversations stay readable offline', async (t) => {
  const server = await startServer(['--direct-messages', 'anyone']);
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.stop();
  });
  const { a, conv } = await chatPair(server);
  const p = await person(browser, server, a);
  const { page } = p;
  await page.goto('/');
  await page.getByText('Wen Writer').first().waitFor();
  // The worker takes over the page that registered it once installed; from
  // then on the shell is kept. Wait for that before navigating: a worker that
  // claims its clients while a navigation is under way skips the page being
  // loaded, which then stays uncontrolled until its next load.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await poll('the service worker to control the page', () => page.evaluate(() => !!navigator.serviceWorker.controller));
  await page.goto(`/chats/${conv.id}`);
  await page.getByText('离线也能读这条消息').waitFor();
  assert.equal(await page.evaluate(() => !!navigator.serviceWorker.controller), true, 'a page loaded after the worker is active is controlled');

  // The shell holds both catalogues, so the app also starts offline after a switch of language.
  const kept = await poll('the shell with both catalogues', async () => {
    const names = await page.evaluate(async () => (await (await caches.open('plaza-shell-v1')).keys()).map((r) => new URL(r.url).pathname));
    return names.some((n) => /^\/assets\/zh-CN-.*\.js$/.test(n)) && names.some((n) => /^\/assets\/en-.*\.js$/.test(n)) && names;
  });
  assert.ok(kept.includes('/'), `the page itself is kept: ${kept}`);

  p.expectFailedRequests = true; // the stream and fresh reads fail while offline
  await p.context.setOffline(true);
  await page.goto('/');
  await page.getByText('Wen Writer').first().waitFor();
  await page.goto(`/chats/${conv.id}`);
  await page.getByText('offline hello one').waitFor();
  await page.getByText('离线也能读这条消息').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang.length > 0), true);
  await p.context.setOffline(false);
});

test('signing out wipes what was kept for offline reading', async (t) => {
  const server = await startServer(['--direct-messages', 'anyone']);
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.stop();
  });
  const { a } = await chatPair(server);
  const p = await person(browser, server, a);
  const { page } = p;
  await page.goto('/');
  await page.getByText('Wen Writer').first().waitFor();
  const kept = () => page.evaluate(() => localStorage.getItem('plaza.offline'));
  assert.match((await kept()) ?? '', /offline hello one|离线也能读|Wen Writer/);
  await page.goto('/settings');
  await page.getByRole('button', { name: /sign out|退出/i }).first().click();
  await page.waitForURL(/\/login$/);
  assert.equal(await kept(), null);
});
