// Messages as people read and write them: @ suggestions and marked
// mentions, the emoji picker, links that open safely, date separators,
// copying and forwarding, and searching one's own conversations on the
// server. Each test starts its own server (seed.mjs's world).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './harness.mjs';
import { open, say, world } from './seed.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(() => browser?.close());

test('@ suggests group members, and the mention stands out for the one mentioned', { timeout: 120000 }, async (t) => {
  const w = await world();
  t.after(() => w.server.stop());
  const a = await open(browser, w.server, w.alice);
  await a.page.goto(`/chats/${w.group.id}`);
  const box = a.page.getByRole('textbox', { name: 'Message' });
  await box.click();
  await box.pressSequentially('hi @bo');
  await a.page.getByRole('option', { name: /Bob Li/ }).waitFor();
  await box.press('Enter'); // picks the suggestion, does not send
  assert.equal(await box.inputValue(), 'hi @bob ');
  await a.page.getByRole('button', { name: 'Emoji' }).click();
  await a.page.getByRole('dialog', { name: 'Emoji' }).getByRole('button', { name: '🎉' }).click();
  await box.pressSequentially(' map https://example.com/trail');
  await box.press('Enter');
  await a.page.getByRole('link', { name: 'https://example.com/trail', exact: true }).waitFor();

  const b = await open(browser, w.server, w.bob);
  await b.page.goto(`/chats/${w.group.id}`);
  const mention = b.page.locator('.bubble .mention-me', { hasText: '@bob' });
  await mention.waitFor();
  const link = b.page.getByRole('link', { name: 'https://example.com/trail', exact: true });
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.match(await link.getAttribute('rel'), /noopener/);
  assert.match(await link.getAttribute('rel'), /noreferrer/);
  await b.page.locator('li.msg .bubble', { hasText: 'hi @bob 🎉 map' }).waitFor();
  // Today's messages sit under a "Today" separator.
  await b.page.locator('li.day-sep', { hasText: 'Today' }).first().waitFor();
  assert.deepEqual([...a.problems, ...b.problems], []);
});

test('a message can be copied and forwarded to another chat', { timeout: 120000 }, async (t) => {
  const w = await world();
  t.after(() => w.server.stop());
  const a = await open(browser, w.server, w.alice);
  await a.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: w.server.addr });
  await a.page.goto(`/chats/${w.withBob.id}`);
  const row = a.page.locator('li.msg', { hasText: 'Row 7, seats 12 and 13.' });
  await row.getByRole('button', { name: 'Message actions' }).click();
  await row.getByRole('button', { name: 'Copy' }).click();
  await row.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
  assert.equal(await a.page.evaluate(() => navigator.clipboard.readText()), 'Row 7, seats 12 and 13.');

  await row.getByRole('button', { name: 'Message actions' }).click();
  await row.getByRole('button', { name: 'Forward' }).click();
  const dialog = a.page.getByRole('dialog', { name: 'Forward to…' });
  await dialog.getByRole('button', { name: 'Forward to Carol Zhang' }).click();
  await dialog.getByRole('status').filter({ hasText: 'Sent' }).waitFor();
  await dialog.getByRole('button', { name: 'Done' }).click();
  const msgs = await w.server.call(w.carol.token, 'GET', `/conversations/${w.withCarol.id}/messages?limit=10`);
  const last = msgs.items.at(-1);
  assert.equal(last.text, 'Row 7, seats 12 and 13.');
  assert.equal(last.sender_id, w.alice.id);
});

test('searching the chat list finds messages in one\'s own conversations, Chinese without spaces', { timeout: 120000 }, async (t) => {
  const w = await world();
  t.after(() => w.server.stop());
  await say(w.server, w.bob, w.withBob.id, '明天天气很好，我们去爬山吧');
  // Dan is in none of Alice's conversations: his own search finds nothing of theirs.
  const a = await open(browser, w.server, w.alice);
  await a.page.goto('/');
  await a.page.getByRole('searchbox').fill('天气');
  const found = a.page.getByRole('region', { name: /1 message/ });
  await found.getByText('明天天气很好，我们去爬山吧').waitFor({ timeout: 20000 });
  await found.getByRole('link').first().click();
  await a.page.waitForURL(new RegExp(`/chats/${w.withBob.id}$`));
  const dan = await w.server.call(w.dan.token, 'GET', `/messages/search?q=${encodeURIComponent('天气')}`);
  assert.deepEqual(dan.items, []);
});
