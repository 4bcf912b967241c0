// The messenger layout in a real browser: on a desktop the chat list and
// the open conversation side by side, the header naming the chat (with the
// member count of a group), the details panel with members, renaming,
// shared photos and leaving after a confirmation; on a phone a tab bar
// that gives way to a full-screen conversation with a back button.
//
// Run from web/: PLAZA_BIN=/tmp/plaza node --test e2e/layout.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, phone, png } from './harness.mjs';
import { desktop, open, world } from './seed.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** box returns an element's bounding box, failing when it is not shown. */
async function box(locator) {
  const b = await locator.boundingBox();
  assert.ok(b, 'the element is shown');
  return b;
}

test('desktop: the list and the conversation side by side, the header names the chat', async () => {
  const w = await world();
  try {
    const { page, problems, context } = await open(browser, w.server, w.alice, { viewport: desktop });
    await page.goto('/');
    const list = page.getByRole('region', { name: 'Chats' });
    await list.getByRole('link', { name: /Bob Li/ }).waitFor();
    // Nothing open yet: the right pane says so.
    const empty = page.getByRole('heading', { name: 'Choose a chat' });
    await empty.waitFor();
    assert.ok((await box(list)).x + (await box(list)).width <= (await box(empty)).x, 'the empty state is right of the list');
    // The navigation is a rail down the left, with the sections.
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Chats', 'Posts', 'Contacts', 'Channels', 'Settings']) await nav.getByRole('link', { name, exact: true }).waitFor();
    assert.ok((await box(nav)).x < (await box(list)).x, 'the rail is left of the list');
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 1);

    // The search box filters the list by name, client-side.
    const search = page.getByRole('searchbox', { name: 'Search chats by name' });
    await search.fill('carol');
    await list.getByRole('link', { name: /Carol Zhang/ }).waitFor();
    assert.equal(await list.getByRole('link', { name: /Bob Li/ }).count(), 0);
    await search.fill('hike');
    await list.getByRole('link', { name: /Weekend hike/ }).waitFor();
    assert.equal(await list.getByRole('listitem').count(), 1);
    await search.fill('nobody here');
    await list.getByText('No chat matches').waitFor();
    await search.fill('');

    // Opening a direct chat keeps the list beside it.
    await list.getByRole('link', { name: /Bob Li/ }).click();
    await page.waitForURL(`**/chats/${w.withBob.id}`);
    const chat = page.getByRole('main', { name: 'Bob Li' });
    await chat.getByRole('heading', { name: 'Bob Li' }).waitFor();
    await chat.getByText('Row 7, seats 12 and 13.').waitFor();
    assert.ok((await box(list)).x + (await box(list)).width <= (await box(chat)).x + 1, 'the conversation is right of the list');
    assert.equal(await list.getByRole('link', { name: /Bob Li/ }).getAttribute('aria-current'), 'page');
    assert.equal(await chat.getByText(/members?$/).count(), 0, 'a direct chat shows no member count');

    // A group shows its member count; a reload of its address gives the same layout.
    await list.getByRole('link', { name: /Weekend hike/ }).click();
    const group = page.getByRole('main', { name: 'Weekend hike' });
    await group.getByText('3 members').waitFor();
    await page.reload();
    await group.getByText('See you there').waitFor();
    await list.waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await w.server.stop();
  }
});

test('desktop: the details panel lists members with roles, renames, shows photos and asks before leaving', async () => {
  const w = await world();
  try {
    const bob = await open(browser, w.server, w.bob, { viewport: desktop });
    const { page } = bob;
    await page.goto(`/chats/${w.group.id}`);
    const chat = page.getByRole('main', { name: 'Weekend hike' });
    await chat.getByText('See you there').waitFor();
    // A photo, so that the panel has something under "Photos and files".
    await page.locator('#photo-input').setInputFiles({ name: 'summit.png', mimeType: 'image/png', buffer: png(320, 240) });
    await chat.locator('.messages li.msg:not(.pending) img[alt="Photo"]').waitFor();

    const toggle = chat.getByRole('button', { name: 'Group info' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    const details = page.getByRole('complementary', { name: 'Group info' });
    await details.waitFor();
    // Beside the messages, not over them.
    assert.ok((await box(chat.getByRole('list', { name: 'Messages' }))).x + (await box(chat.getByRole('list', { name: 'Messages' }))).width <= (await box(details)).x + 1);
    const members = details.getByRole('list', { name: 'Members' });
    await members.getByText('Alice Wang (@alice)').waitFor();
    assert.equal(await members.getByRole('listitem').count(), 3);
    await members.getByRole('listitem').filter({ hasText: 'Alice Wang' }).getByText('Owner').waitFor();
    await members.getByRole('listitem').filter({ hasText: 'Bob Li' }).getByText('You').waitFor();
    await details.getByRole('list', { name: 'Photos' }).getByRole('img', { name: 'Photo' }).waitFor();
    // Bob is a plain member: renaming is for the owner and admins.
    assert.equal(await details.getByLabel('Group name').count(), 0);

    // Leaving asks first; cancelling keeps him in.
    await details.getByRole('button', { name: 'Leave group' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Leave “Weekend hike”?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await w.server.call(w.alice.token, 'GET', `/conversations/${w.group.id}`)).member_ids.length, 3);
    await details.getByRole('button', { name: 'Leave group' }).click();
    await dialog.getByRole('button', { name: 'Leave', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/');
    await page.getByRole('heading', { name: 'Choose a chat' }).waitFor();
    assert.equal((await w.server.call(w.alice.token, 'GET', `/conversations/${w.group.id}`)).member_ids.length, 2);
    assert.deepEqual(bob.problems, []);
    await bob.context.close();

    // The owner renames the group from the panel, and the header follows.
    const alice = await open(browser, w.server, w.alice, { viewport: desktop });
    await alice.page.goto(`/chats/${w.group.id}`);
    await alice.page.getByRole('button', { name: 'Group info' }).click();
    const panel = alice.page.getByRole('complementary', { name: 'Group info' });
    await panel.getByRole('list', { name: 'Members' }).getByRole('listitem').nth(1).waitFor();
    assert.equal(await panel.getByRole('list', { name: 'Members' }).getByRole('listitem').count(), 2);
    await panel.getByLabel('Group name').fill('Sunday hike');
    await panel.getByRole('button', { name: 'Save' }).click();
    await alice.page.getByRole('heading', { name: 'Sunday hike' }).first().waitFor();
    await alice.page.getByRole('region', { name: 'Chats' }).getByRole('link', { name: /Sunday hike/ }).waitFor();
    // Escape closes the panel and gives the focus back to its button.
    await panel.getByRole('button', { name: 'Close the details' }).press('Escape');
    await panel.waitFor({ state: 'hidden' });
    assert.equal(await alice.page.evaluate(() => document.activeElement?.getAttribute('aria-controls')), 'chat-details');
    assert.deepEqual(alice.problems, []);
    await alice.context.close();
  } finally {
    await w.server.stop();
  }
});

test('phone: a tab bar on the list, a full-screen conversation without it, and back', async () => {
  const w = await world();
  try {
    const { page, problems, context } = await open(browser, w.server, w.alice, { viewport: phone });
    await page.goto('/');
    await page.getByRole('heading', { name: 'Chats' }).waitFor();
    const tabs = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Chats', 'Contacts', 'Moments', 'Channels', 'Me']) await tabs.getByRole('link', { name: new RegExp(`^${name}`) }).waitFor();
    const bar = await box(tabs);
    assert.ok(bar.y + bar.height >= phone.height - 1 && bar.y > phone.height / 2, 'the tab bar is at the bottom');
    // The unread messages of all chats show on Chats, and are described to screen readers.
    const unread = (await w.server.call(w.alice.token, 'GET', '/conversations')).items.reduce((n, c) => n + (c.unread_count ?? 0), 0);
    assert.ok(unread >= 2);
    const chats = tabs.getByRole('link', { name: 'Chats', exact: true });
    await chats.locator('.badge', { hasText: String(unread) }).waitFor();
    assert.equal(await chats.evaluate((a) => document.getElementById(a.getAttribute('aria-describedby')).textContent), `${unread} unread`);
    // The brand and the notifications stay reachable at the top.
    await page.getByRole('banner').getByText('Plaza').waitFor();
    await page.getByRole('link', { name: 'Notifications' }).waitFor();

    await page.getByRole('link', { name: /Bob Li/ }).click();
    await page.getByRole('heading', { name: 'Bob Li' }).waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'no tab bar in a conversation');
    const composer = await box(page.getByRole('textbox', { name: 'Message' }));
    assert.ok(composer.y + composer.height > phone.height - 80, 'the composer sits at the bottom');
    await tabs.getByRole('link', { name: 'Chats' }).waitFor({ state: 'detached' });
    // Bob's messages are read now: the badge counts fewer.
    await page.getByRole('link', { name: 'Back to chats' }).click();
    await page.waitForURL((u) => u.pathname === '/');
    await tabs.waitFor();
    await chats.locator('.badge', { hasText: String(unread - 2) }).waitFor();

    // The details open over the conversation and close again.
    await page.getByRole('link', { name: /Weekend hike/ }).click();
    await page.getByText('3 members').waitFor();
    await page.getByRole('button', { name: 'Group info' }).click();
    const details = page.getByRole('complementary', { name: 'Group info' });
    await details.getByRole('list', { name: 'Members' }).waitFor();
    await details.getByRole('button', { name: 'Close the details' }).click();
    await details.waitFor({ state: 'hidden' });
    await page.goBack();
    await tabs.waitFor();

    // Me holds the settings; Moments the timeline.
    await tabs.getByRole('link', { name: /^Me/ }).click();
    await page.waitForURL('**/settings');
    assert.equal(await tabs.getByRole('link', { name: /^Me/ }).getAttribute('aria-current'), 'page');
    await tabs.getByRole('link', { name: 'Moments' }).click();
    await page.waitForURL('**/timeline');
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await w.server.stop();
  }
});

test('phone: the signed-out header shows the brand', async () => {
  const w = await world();
  try {
    const context = await browser.newContext({ viewport: phone, baseURL: w.server.addr });
    const page = await context.newPage();
    await page.goto('/login');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const brand = page.getByRole('banner').getByText('Plaza', { exact: true });
    const b = await box(brand);
    assert.ok(b.width > 20 && b.height > 10, 'the brand name is shown, not hidden');
    await context.close();
  } finally {
    await w.server.stop();
  }
});
