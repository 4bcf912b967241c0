// Browser tests of "Your data" in Settings against the real binary in real
// Chromium, each on its own server with its own accounts: the media list
// and deleting from it (a sent photo stays in the chat, an unsent file is
// gone); downloading one's data (progress, then a ZIP saved with the
// session); deleting the account and cancelling it, with the banner on
// every screen; choosing a legacy contact; a memorialised profile and a
// deleted sender in a group chat. Screens are saved to docs/screenshots/.
//
// The tests after the first need the export, deletion and legacy-contact
// endpoints; each checks the server's OpenAPI document first and skips,
// saying what it needs, on a build that does not serve them.
//
// Run from the repository root: node --test web/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { account, launchBrowser, person, png, poll, shot, startServer } from './harness.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// scenario runs body with a fresh server (started with args) and closes
// everything after it; no browser errors may have been logged.
async function scenario(args, body) {
  const server = await startServer(args);
  const people = [];
  const open = async (acct) => {
    const p = await person(browser, server, acct);
    // Settings asks for every part of one's data; a build without some
    // of those endpoints answers 404 there, which is not this test's.
    for (const route of ['GET /api/v1/me/exports', 'GET /api/v1/me/legacy-contact']) {
      if (!(await server.serves(route))) p.allowFailed.push(new RegExp(`${route.split(' ')[1]}$`));
    }
    people.push(p);
    return p;
  };
  try {
    await body(server, open);
    assert.deepEqual(people.flatMap((p) => p.problems), [], 'the browser logged errors');
  } finally {
    for (const p of people) await p.context.close();
    await server.stop();
  }
}

// needs reports whether a build serves route, starting a server to ask.
async function needs(route) {
  const server = await startServer();
  try {
    return await server.serves(route);
  } finally {
    await server.stop();
  }
}

/** befriend makes a and b contacts through the API. */
async function befriend(server, a, b) {
  const req = await server.call(a.token, 'POST', '/contacts/requests', { account_id: b.id, note: 'hi' });
  await server.call(b.token, 'POST', `/contacts/requests/${req.id}/accept`);
}

/** upload stores bytes as media through the API and returns the item. */
async function upload(server, token, name, type, bytes) {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), name);
  const res = await fetch(`${server.addr}/api/v1/media`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
  const body = await res.json();
  assert.equal(res.status, 201, `upload ${name}: ${JSON.stringify(body)}`);
  return body;
}

/** statusOf fetches an API path with a token and returns the status. */
async function statusOf(server, token, path) {
  const res = await fetch(path.startsWith('http') ? path : `${server.addr}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** focused names the element that has the focus (its aria-label or text). */
function focused(page) {
  return page.evaluate(() => document.activeElement?.getAttribute('aria-label') || document.activeElement?.textContent?.trim() || '');
}

test('media: the list shows what you uploaded; deleting asks, frees the space, and a sent photo stays in the chat', { timeout: 120000 }, async () => {
  await scenario([], async (server, open) => {
    const a = await account(server, 'alice', 'Alice');
    const b = await account(server, 'bob', 'Bob');
    await befriend(server, a, b);
    const conv = await server.call(a.token, 'POST', '/conversations', { kind: 'direct', member_ids: [b.id] });
    const sent = await upload(server, a.token, 'sunset.png', 'image/png', png(480, 320, 1));
    await server.call(a.token, 'POST', `/conversations/${conv.id}/messages`, { client_id: 'c-1', kind: 'image', media_id: sent.id });
    const kept = await upload(server, a.token, 'beach.png', 'image/png', png(400, 300, 2));
    const notes = await upload(server, a.token, 'notes.txt', 'text/plain', Buffer.from('bread, tea, oranges\n'.repeat(300)));

    const alice = await open(a);
    const { page } = alice;
    await page.goto('/settings');
    const list = page.getByRole('list', { name: 'Your media' });
    await list.waitFor();
    const rows = list.getByRole('listitem');
    await poll('three media rows', async () => (await rows.count()) === 3);
    // Newest first: the file, then the two photos, the sent one marked.
    const info = (i) => rows.nth(i).locator('.media-info').innerText();
    assert.match(await info(0), /^File\n/);
    assert.match(await info(1), /^Photo\n.*400×300/);
    assert.match(await info(2), /^Photo\n.*480×320.*\nSent in a chat$/s);
    // Photos show their thumbnails, fetched with the session.
    await poll('two thumbnails', async () => (await list.locator('.media-thumb img[src^="blob:"]').count()) === 2);
    const used = (await server.call(a.token, 'GET', '/me/media-usage')).used_bytes;
    assert.equal(used, sent.size + kept.size + notes.size);
    await page.getByText(/^Storage used: .+ of 2\.1 GB$/).waitFor();
    await page.getByRole('heading', { name: 'Media' }).scrollIntoViewIfNeeded();
    await shot(page, 'settings-media.png');

    // Deleting asks first; Escape keeps the photo and gives the focus back.
    const sentRow = rows.filter({ hasText: 'Sent in a chat' });
    const del = sentRow.getByRole('button', { name: /^Delete Photo, / });
    await del.click();
    const dialog = page.getByRole('alertdialog', { name: 'Delete this photo?' });
    await dialog.waitFor();
    await dialog.getByText('the people there can still see it until you recall that message').waitFor();
    await poll('the dialog opens with the focus on Cancel', async () => (await focused(page)) === 'Cancel');
    await shot(page, 'settings-media-delete.png');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // The dialog gives the focus back as it closes, which may be a frame
    // after it is hidden.
    await poll('the focus back on the Delete button', async () => /^Delete Photo, /.test(await focused(page)));
    assert.equal(await rows.count(), 3);

    await del.click();
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('status').filter({ hasText: /^Deleted: Photo, / }).waitFor();
    await poll('two media rows', async () => (await rows.count()) === 2);
    await poll('the focus moves to the section heading', async () => (await focused(page)) === 'Media');
    assert.equal((await server.call(a.token, 'GET', '/me/media-usage')).used_bytes, kept.size + notes.size);

    // The chat keeps the photo: Bob still sees it, and so does Alice as a member.
    assert.equal(await statusOf(server, b.token, `/api/v1/media/${sent.id}`), 200);
    assert.equal(await statusOf(server, a.token, `/api/v1/media/${sent.id}`), 200);
    const bob = await open(b);
    await bob.page.goto(`/chats/${conv.id}`);
    await bob.page.locator('.messages li.msg img[alt="Photo"]').waitFor();

    // A file no message carries is gone at once.
    await rows.filter({ has: page.locator('.media-name', { hasText: 'File' }) }).getByRole('button', { name: /^Delete File, / }).click();
    const fileDialog = page.getByRole('alertdialog', { name: 'Delete this file?' });
    await fileDialog.getByText('It disappears from any post that shows it.').waitFor();
    await fileDialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await poll('one media row', async () => (await rows.count()) === 1);
    assert.equal(await statusOf(server, a.token, `/api/v1/media/${notes.id}`), 404);
    assert.deepEqual((await server.call(a.token, 'GET', '/me/media')).items.map((m) => m.id), [kept.id]);
    await page.getByText(/^Storage used: /).waitFor();
  });
});

test('download your data: the progress shows, then the ZIP is saved with the session', { timeout: 180000 }, async (t) => {
  if (!(await needs('POST /api/v1/me/exports'))) return t.skip('needs POST /api/v1/me/exports (the export job), which this build does not serve');
  await scenario([], async (server, open) => {
    const a = await account(server, 'alice', 'Alice');
    const b = await account(server, 'bob', 'Bob');
    await befriend(server, a, b);
    const conv = await server.call(a.token, 'POST', '/conversations', { kind: 'direct', member_ids: [b.id] });
    await server.call(a.token, 'POST', `/conversations/${conv.id}/messages`, { client_id: 'c-1', kind: 'text', text: 'Tea at five?' });
    await server.call(b.token, 'POST', `/conversations/${conv.id}/messages`, { client_id: 'c-2', kind: 'text', text: '好的，五点见' });
    await upload(server, a.token, 'sunset.png', 'image/png', png(320, 200, 1));

    const alice = await open(a);
    const { page } = alice;
    await page.goto('/settings');
    const section = page.getByRole('region', { name: 'Download your data' });
    await section.scrollIntoViewIfNeeded();
    await section.getByRole('button', { name: 'Prepare a download' }).click();
    // A small account may be ready before the bar is seen; the bar, when
    // it shows, names its percentage.
    const bar = section.getByRole('progressbar');
    if (await bar.waitFor({ timeout: 3000 }).then(() => true, () => false)) {
      assert.match(await section.locator('.export-progress label').innerText(), /\d+%$/);
    }
    await section.getByText(/^Your data is ready \(.+\)\. You can download it until .+\.$/).waitFor({ timeout: 90000 });
    await shot(page, 'settings-export.png');

    const [download] = await Promise.all([page.waitForEvent('download'), section.getByRole('button', { name: 'Download', exact: true }).click()]);
    assert.match(download.suggestedFilename(), /^plaza-alice-\d{4}-\d{2}-\d{2}\.zip$/);
    const zip = readFileSync(await download.path());
    assert.equal(zip.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'the download is a ZIP');
    for (const name of ['account.json', 'index.html']) assert.ok(zip.includes(name), `the ZIP holds ${name}`);

    // Unzipped, it reads offline: index.html opens from the disk and leads
    // to the conversation, Chinese included.
    const dir = mkdtempSync(join(tmpdir(), 'plaza-export-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('python3', ['-m', 'zipfile', '-e', await download.path(), dir]);
    const offline = await page.context().newPage();
    await offline.goto(pathToFileURL(join(dir, 'index.html')).href);
    await offline.getByRole('heading', { level: 1, name: 'Your Plaza data' }).waitFor();
    await shot(offline, 'export-offline-index.png');
    await offline.getByRole('link', { name: /conversations/i }).first().click();
    const opened = offline.getByText('Tea at five?');
    if (!(await opened.isVisible())) await offline.getByRole('link', { name: /Bob|bob|direct/ }).first().click();
    await offline.getByText('Tea at five?').waitFor();
    await offline.getByText('好的，五点见').waitFor();
    await shot(offline, 'export-offline-conversation.png');
    await offline.close();

    // Nobody else may fetch it.
    const [first] = (await server.call(a.token, 'GET', '/me/exports')).items;
    assert.equal(await statusOf(server, b.token, first.download_url.startsWith('http') ? first.download_url : `${server.addr}${first.download_url}`), 404);

    // A second download lists the first among the earlier ones.
    await section.getByRole('button', { name: 'Prepare a download' }).click();
    await section.getByRole('heading', { name: 'Earlier downloads' }).waitFor({ timeout: 90000 });
    await section.getByText(/^Your data is ready/).waitFor({ timeout: 90000 });
  });
});

test('delete account: password, a confirmation naming the grace period, the date on every screen, and cancelling', { timeout: 120000 }, async (t) => {
  if (!(await needs('POST /api/v1/me/deletion/cancel'))) return t.skip('needs POST /api/v1/me/deletion/cancel (deletion with a grace period), which this build does not serve');
  await scenario([], async (server, open) => {
    const a = await account(server, 'alice', 'Alice');
    const alice = await open(a);
    const { page } = alice;
    await page.goto('/settings');
    const section = page.getByRole('region', { name: 'Delete account' });
    await section.scrollIntoViewIfNeeded();
    const ask = section.getByRole('button', { name: 'Delete my account…' });

    await ask.click();
    await section.getByText('Enter your password to delete your account.').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'delete-password', 'the empty password field has the focus');
    assert.equal(await section.getByLabel('Your password').getAttribute('aria-invalid'), 'true');

    const dialog = page.getByRole('alertdialog', { name: 'Delete your account?' });
    alice.expectFailedRequests = true;
    await section.getByLabel('Your password').fill('not my password');
    await ask.click();
    await dialog.getByRole('button', { name: 'Delete my account' }).click();
    await section.getByText('The password is wrong.').waitFor();
    alice.expectFailedRequests = false;

    await section.getByLabel('Your password').fill('a long passphrase');
    await ask.click();
    await dialog.getByText('grace period of 14 days').waitFor();
    await poll('the focus on Cancel', async () => (await focused(page)) === 'Cancel');
    await shot(page, 'settings-delete-account.png');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await poll('the focus on Delete my account…', async () => (await focused(page)) === 'Delete my account…');
    assert.equal((await server.call(a.token, 'GET', '/me')).deletion_scheduled_at, undefined, 'nothing is scheduled yet');

    // Scheduling ends every session (the server's rule): the sign-in page
    // says when the account goes, and signing in again shows the banner.
    alice.expectFailedRequests = true;
    await ask.click();
    await dialog.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByText(/^Your account will be deleted on .+\. To keep it, sign in before then/).waitFor();
    await page.getByLabel('Handle').fill('alice');
    await page.getByLabel('Password').fill('a long passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Chats' }).waitFor();
    const token = (await server.call(null, 'POST', '/sessions', { handle: 'alice', password: 'a long passphrase' })).token;
    alice.expectFailedRequests = false;
    const scheduled = (await server.call(token, 'GET', '/me')).deletion_scheduled_at;
    assert.ok(scheduled, 'GET /me names the deletion date');

    const banner = page.getByRole('region', { name: 'Account deletion' });
    await banner.getByText(/^Your account will be deleted on .+\.$/).waitFor();
    await shot(page, 'deletion-banner.png');
    await banner.getByRole('button', { name: 'Cancel deletion' }).click();
    await banner.waitFor({ state: 'detached' });
    assert.equal((await server.call(token, 'GET', '/me')).deletion_scheduled_at, undefined, 'the deletion is cancelled');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('region', { name: 'Delete account' }).getByRole('button', { name: 'Delete my account…' }).waitFor();
  });
});

test('legacy contact: choose a contact and whether they may download, change it, remove it', { timeout: 120000 }, async (t) => {
  if (!(await needs('PUT /api/v1/me/legacy-contact'))) return t.skip('needs PUT /api/v1/me/legacy-contact (legacy contacts), which this build does not serve');
  await scenario([], async (server, open) => {
    const a = await account(server, 'alice', 'Alice');
    const b = await account(server, 'bob', 'Bob');
    const c = await account(server, 'carol', 'Carol');
    await befriend(server, a, b);
    await befriend(server, a, c);
    const alice = await open(a);
    const { page } = alice;
    await page.goto('/settings');
    const section = page.getByRole('region', { name: 'Legacy contact' });
    await section.scrollIntoViewIfNeeded();
    await section.getByText('You have no legacy contact.').waitFor();

    await section.getByRole('button', { name: 'Save legacy contact' }).click();
    await section.getByText('Choose one of your contacts.').waitFor();
    assert.equal(await section.getByLabel('Legacy contact').getAttribute('aria-invalid'), 'true');

    await section.getByLabel('Legacy contact').selectOption({ label: 'Bob (@bob)' });
    await section.getByLabel('They may download a copy of my data').check();
    await section.getByRole('button', { name: 'Save legacy contact' }).click();
    await section.getByRole('status').filter({ hasText: 'Saved: Bob (@bob) is your legacy contact.' }).waitFor();
    await section.getByText('Your legacy contact is Bob (@bob); they may download your data.').waitFor();
    const saved = await server.call(a.token, 'GET', '/me/legacy-contact');
    assert.deepEqual({ account_id: saved.account_id, may_download: saved.may_download }, { account_id: b.id, may_download: true });
    await shot(page, 'settings-legacy-contact.png');

    // It is read back after a reload, and can be changed.
    await page.reload();
    await section.getByText('Your legacy contact is Bob (@bob); they may download your data.').waitFor();
    assert.equal(await section.getByLabel('Legacy contact').inputValue(), b.id);
    assert.equal(await section.getByLabel('They may download a copy of my data').isChecked(), true);
    await section.getByLabel('Legacy contact').selectOption({ label: 'Carol (@carol)' });
    await section.getByLabel('They may download a copy of my data').uncheck();
    await section.getByRole('button', { name: 'Save legacy contact' }).click();
    await section.getByText('Your legacy contact is Carol (@carol); they may not download your data.').waitFor();
    const changed = await server.call(a.token, 'GET', '/me/legacy-contact');
    assert.deepEqual({ account_id: changed.account_id, may_download: changed.may_download }, { account_id: c.id, may_download: false });

    alice.expectFailedRequests = true; // "none" may answer 404
    await section.getByRole('button', { name: 'Remove legacy contact' }).click();
    await section.getByText('You have no legacy contact.').waitFor();
    await page.reload();
    await section.getByText('You have no legacy contact.').waitFor();
    alice.expectFailedRequests = false;
  });
});

test('a memorialised profile reads "Remembering"; a deleted sender shows as "Deleted account"', { timeout: 120000 }, async (t) => {
  if (!(await needs('POST /api/v1/admin/accounts/{id}/memorialisation'))) {
    return t.skip('needs POST /api/v1/admin/accounts/{id}/memorialisation and --deletion-grace, which this build does not have');
  }
  await scenario(['--deletion-grace', '1s'], async (server, open) => {
    const admin = await account(server, 'operator', 'Operator');
    server.grant('operator', 'admin');
    const a = await account(server, 'alice', 'Alice');
    const b = await account(server, 'bob', 'Bob');
    const c = await account(server, 'carol', 'Carol');
    await befriend(server, b, a);
    await befriend(server, b, c);
    const group = await server.call(b.token, 'POST', '/conversations', { kind: 'group', title: 'Book club', member_ids: [a.id, c.id] });
    await server.call(c.token, 'POST', `/conversations/${group.id}/messages`, { client_id: 'c-1', kind: 'text', text: 'See you on Sunday' });
    await server.call(a.token, 'POST', `/conversations/${group.id}/messages`, { client_id: 'a-1', kind: 'text', text: 'I will bring the book' });

    // Carol deletes her account; with a 1 s grace period it is gone soon.
    await server.call(c.token, 'DELETE', '/me', { password: 'a long passphrase' });
    await poll('carol erased', async () => [404, 410].includes(await statusOf(server, b.token, `/api/v1/accounts/${c.id}`)), 30000);
    await server.call(admin.token, 'POST', `/admin/accounts/${a.id}/memorialisation`, { reason: 'Her family asked, with a death certificate' });

    const bob = await open(b);
    bob.allowFailed.push(new RegExp(`/api/v1/accounts/${c.id}$`));
    const { page } = bob;
    await page.goto(`/accounts/${a.id}`);
    await page.getByRole('heading', { name: 'Remembering Alice' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Follow' }).count(), 0, 'a memorialised account offers no follow button');
    await shot(page, 'profile-memorialised.png');

    await page.goto(`/chats/${group.id}`);
    const carolsMessage = page.locator('.messages li.msg', { hasText: 'See you on Sunday' });
    await carolsMessage.locator('.msg-sender', { hasText: 'Deleted account' }).waitFor();
    await page.locator('.messages li.msg', { hasText: 'I will bring the book' }).locator('.msg-sender', { hasText: 'Alice' }).waitFor();
    await shot(page, 'chat-deleted-account.png');
  });
});
