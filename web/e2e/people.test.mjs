// Browser tests of finding people against the real binary: adding someone
// by handle, and by phone number once they allow it; invite links with
// their QR code, opened signed in or signed out; a cropped profile photo
// that the other person sees; and the privacy switches and language, which
// the server keeps. Each test has its own server.
//
// Run from the repository root: node --test web/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { account, launchBrowser, person, phone, png, poll, startServer } from './harness.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** withPhone registers through the API and verifies the given number. */
async function withPhone(server, handle, displayName, number) {
  const terms = await server.call(null, 'GET', '/terms');
  const r = await server.call(null, 'POST', '/accounts', {
    handle, password: 'a long passphrase', display_name: displayName, birth_date: '1990-01-02',
    accepted_terms_version: terms.version,
  });
  await server.call(r.token, 'POST', '/me/phone', { phone: number });
  await server.call(r.token, 'POST', '/me/phone/verify', { code: server.smsCode(number) });
  return { id: r.account.id, handle, token: r.token };
}

/** befriend makes two accounts contacts through the API. */
async function befriend(server, a, b) {
  const req = await server.call(a.token, 'POST', '/contacts/requests', { account_id: b.id, note: '' });
  await server.call(b.token, 'POST', `/contacts/requests/${req.id}/accept`);
}

async function find(page, by, value) {
  await page.getByRole('radio', { name: by === 'phone' ? 'Phone number' : 'Handle' }).check();
  await page.getByLabel(by === 'phone' ? 'Their phone number' : 'Their handle').fill(value);
  await page.getByRole('button', { name: 'Find', exact: true }).click();
}

test('someone found by their handle gets the request, accepts it, and removing asks first', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const amy = await person(browser, server, await account(server, 'amy', 'Amy'));
  const ben = await person(browser, server, await account(server, 'ben', 'Ben'));
  t.after(() => Promise.all([amy.context.close(), ben.context.close()]));
  amy.allowFailed.push(/\/accounts\/lookup/);

  await amy.page.goto('/contacts');
  // A handle nobody has: plain words, the same as for someone who cannot be found.
  await find(amy.page, 'handle', 'nobody_here');
  await amy.page.getByText('No one found. Either nobody has this handle, or they do not let people find them by handle.').waitFor();

  // Case and the @ do not matter; the profile shows before anything is sent.
  await find(amy.page, 'handle', '@BEN');
  const found = amy.page.locator('.found');
  await found.getByText('Ben', { exact: true }).waitFor();
  await found.getByText('@ben').waitFor();
  await amy.page.getByLabel('Note to them (optional)').fill('Amy from the choir');
  await amy.page.getByRole('button', { name: 'Send contact request' }).click();
  await amy.page.getByText('Request sent. They appear in your contacts once they accept.').waitFor();

  await ben.page.goto('/contacts');
  await ben.page.getByText('“Amy from the choir”').waitFor();
  await ben.page.getByRole('button', { name: 'Accept Amy' }).click();
  await amy.page.getByRole('button', { name: 'Chat with Ben' }).waitFor();

  // A new chat starts from a handle too.
  await amy.page.goto('/new');
  await amy.page.getByLabel('Their handle').fill('ben');
  await amy.page.getByRole('button', { name: 'Open the chat' }).click();
  await amy.page.getByRole('heading', { name: 'Ben' }).waitFor();
  await amy.page.goto('/contacts');

  // Removing asks first; Cancel keeps the contact.
  await amy.page.getByRole('button', { name: 'Remove Ben from contacts' }).click();
  const dialog = amy.page.getByRole('alertdialog', { name: 'Remove Ben from your contacts?' });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await amy.page.getByRole('button', { name: 'Chat with Ben' }).count(), 1);
  await amy.page.getByRole('button', { name: 'Remove Ben from contacts' }).click();
  await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
  await amy.page.getByRole('button', { name: 'Chat with Ben' }).waitFor({ state: 'hidden' });
  const contacts = await server.call(amy.token, 'GET', '/contacts');
  assert.deepEqual(contacts.items, []);
  assert.deepEqual([...amy.problems, ...ben.problems], []);
});

test('a phone number finds someone only after they allow it', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const cai = await person(browser, server, await account(server, 'cai', 'Cai'));
  const dan = await person(browser, server, await withPhone(server, 'dan', 'Dan', '+8613900139000'));
  t.after(() => Promise.all([cai.context.close(), dan.context.close()]));
  cai.allowFailed.push(/\/accounts\/lookup/);

  // By default nobody is found by phone number, worded as for a number nobody has.
  await cai.page.goto('/contacts');
  await find(cai.page, 'phone', '+86 139 0013 9000');
  const miss = 'No one found. Either nobody has verified this number, or they do not let people find them by phone number.';
  await cai.page.getByText(miss).waitFor();
  await find(cai.page, 'phone', '+86 139 0013 9999');
  await cai.page.getByText(miss).waitFor();

  // Dan allows it in Settings › Privacy.
  await dan.page.goto('/settings#privacy');
  const byPhone = dan.page.getByRole('switch', { name: 'Let people find me by phone' });
  assert.equal(await byPhone.isChecked(), false);
  assert.equal(await dan.page.getByRole('switch', { name: 'Let people find me by handle' }).isChecked(), true);
  await byPhone.check();
  await dan.page.getByText('Saved').waitFor();

  await find(cai.page, 'phone', '+86 139 0013 9000');
  const found = cai.page.locator('.found');
  await found.getByText('@dan').waitFor();
  // The profile never carries the number.
  assert.doesNotMatch(await found.innerText(), /139/);
  await cai.page.getByRole('button', { name: 'Send contact request' }).click();
  await cai.page.getByText('Request sent.').waitFor();
  await dan.page.goto('/contacts');
  await dan.page.getByRole('button', { name: 'Accept Cai' }).waitFor();
  assert.deepEqual([...cai.problems, ...dan.problems], []);
});

test('an invite link with its QR code brings a contact request, signed in or after signing in', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const eva = await person(browser, server, await account(server, 'eva', 'Eva'));
  const fay = await person(browser, server, await account(server, 'fay', 'Fay'));
  const gus = await account(server, 'gus', 'Gus');
  // Gus opens the link in a browser where nobody is signed in.
  const gusContext = await browser.newContext({ viewport: phone, baseURL: server.addr });
  const gusPage = await gusContext.newPage();
  t.after(() => Promise.all([eva.context.close(), fay.context.close(), gusContext.close()]));

  await eva.page.goto('/contacts');
  await eva.page.getByRole('button', { name: 'Create an invite link' }).click();
  const link = await eva.page.getByLabel('Invite link', { exact: true }).inputValue();
  assert.match(link, new RegExp(`^${server.addr}/add/[A-Za-z0-9_-]{20,}$`));
  // The QR code is drawn: dark and light modules on the canvas.
  const qr = eva.page.getByRole('img', { name: 'QR code of your invite link' });
  await eva.page.locator('.qr canvas[data-drawn="true"]').waitFor();
  const tones = await qr.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    let light = 0;
    for (let i = 0; i < d.length; i += 4) d[i] < 64 ? dark++ : d[i] > 192 && light++;
    return { dark, light };
  });
  assert.ok(tones.dark > 1000 && tones.light > 1000, `the QR canvas is drawn: ${JSON.stringify(tones)}`);
  const working = eva.page.getByRole('list', { name: 'Links that work' });
  await working.getByRole('listitem').first().waitFor();
  assert.equal(await working.getByRole('listitem').count(), 1);

  // Fay, signed in, opens it and sends a request.
  const path = new URL(link).pathname;
  await fay.page.goto(path);
  await fay.page.getByRole('heading', { name: 'Add a contact' }).waitFor();
  await fay.page.getByText('@eva').waitFor();
  await fay.page.getByLabel('Note to them (optional)').fill('Fay, from the QR code');
  await fay.page.getByRole('button', { name: 'Send contact request' }).click();
  await fay.page.getByText('Request sent.').waitFor();
  await eva.page.getByText('“Fay, from the QR code”').waitFor();
  await eva.page.getByRole('button', { name: 'Accept Fay' }).waitFor();

  // Gus is signed out: he signs in first and comes back to the invite.
  await gusPage.goto(path);
  await gusPage.getByRole('heading', { name: 'Sign in' }).waitFor();
  await gusPage.getByLabel('Handle').fill('gus');
  await gusPage.getByLabel('Password').fill('a long passphrase');
  await gusPage.getByRole('button', { name: 'Sign in' }).click();
  await gusPage.getByRole('heading', { name: 'Add a contact' }).waitFor();
  assert.equal(new URL(gusPage.url()).pathname, path);
  await gusPage.getByText('@eva').waitFor();

  // Eva revokes the link: it no longer works, and says so.
  await eva.page.getByRole('button', { name: /^Revoke the link starting / }).click();
  await working.waitFor({ state: 'hidden' });
  await gusPage.reload();
  await gusPage.getByText('This invite link does not work').waitFor();
  const requests = await server.call(eva.token, 'GET', '/contacts/requests?direction=incoming');
  assert.deepEqual(requests.items.map((r) => r.from_id), [fay.id]);
  await poll('Gus has no request out', async () => (await server.call(gus.token, 'GET', '/contacts/requests?direction=outgoing')).items.length === 0);
  assert.deepEqual([...eva.problems, ...fay.problems], []);
});

test('a cropped profile photo shows in the other person’s contacts, and removing it asks first', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const hal = await person(browser, server, await account(server, 'hal', 'Hal'));
  const ivy = await person(browser, server, await account(server, 'ivy', 'Ivy'));
  t.after(() => Promise.all([hal.context.close(), ivy.context.close()]));
  await befriend(server, hal, ivy);

  await hal.page.goto('/settings');
  await hal.page.getByRole('heading', { name: 'Profile photo' }).waitFor();
  await hal.page.locator('#avatar-file').setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: png(600, 400) });
  // The square is placed with the keyboard: it is on the picture, which has the focus.
  const crop = hal.page.getByRole('img', { name: 'Photo with the square to keep' });
  await crop.waitFor();
  await hal.page.waitForFunction(() => document.activeElement?.classList.contains('crop-canvas'));
  await crop.press('+');
  await crop.press('+');
  await crop.press('ArrowRight');
  assert.ok(Number(await hal.page.getByLabel('Zoom').inputValue()) > 1.15, 'zoomed in with +');
  await hal.page.getByRole('button', { name: 'Save photo' }).click();
  await hal.page.getByText('Photo saved.').waitFor();
  const me = await server.call(hal.token, 'GET', '/me');
  assert.match(me.avatar_url, /^\/api\/v1\/accounts\/\d+\/avatar\?v=\d+$/);
  await hal.page.locator('.avatar-editor .avatar img').waitFor();

  // Ivy sees it beside Hal in her contacts.
  await ivy.page.goto('/contacts');
  const row = ivy.page.locator('.people li', { hasText: 'Hal' });
  const img = row.locator('.avatar img');
  await img.waitFor();
  await poll('the photo has loaded', () => img.evaluate((i) => i.complete && i.naturalWidth === 64));

  // Removing asks first.
  await hal.page.getByRole('button', { name: 'Remove photo' }).click();
  const dialog = hal.page.getByRole('alertdialog', { name: 'Remove your profile photo?' });
  await dialog.getByRole('button', { name: 'Remove photo' }).click();
  await hal.page.getByText('Photo removed.').waitFor();
  assert.equal((await server.call(hal.token, 'GET', '/me')).avatar_url ?? null, null);
  assert.deepEqual([...hal.problems, ...ivy.problems], []);
});

test('the privacy switches and the language are kept by the server', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const jo = await person(browser, server, await account(server, 'joan', 'Joan'));
  const kim = await account(server, 'kim', 'Kim');
  t.after(() => jo.context.close());

  await jo.page.goto('/settings#privacy');
  const byHandle = jo.page.getByRole('switch', { name: 'Let people find me by handle' });
  await byHandle.uncheck();
  await jo.page.getByText('Saved').waitFor();
  await jo.page.reload();
  await jo.page.getByRole('switch', { name: 'Let people find me by phone' }).waitFor();
  assert.equal(await byHandle.isChecked(), false);
  assert.deepEqual(await server.call(jo.token, 'GET', '/me/privacy'), { find_by_handle: false, find_by_phone: false });
  await assert.rejects(server.call(kim.token, 'GET', '/accounts/lookup?handle=joan'), /404/);

  // The push setting says where this device stands.
  await jo.page.getByRole('heading', { name: 'Push notifications on this device' }).waitFor();
  await jo.page.locator('#push-state').getByText(/^(Off|On|This browser cannot|Notifications for this site are blocked)/).waitFor();

  // A new language is the server's too, for the text messages it sends.
  await jo.page.getByLabel('Language', { exact: true }).selectOption('zh-CN');
  await jo.page.getByRole('heading', { level: 1, name: '设置' }).waitFor();
  await poll('the server has the language', async () => (await server.call(jo.token, 'GET', '/me')).language === 'zh-CN');
  assert.deepEqual(jo.problems, []);
});
