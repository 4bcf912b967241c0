// End-to-end test of the web client against the real binary in real
// Chromium: two people register through the UI, verify their phones with
// the codes from the development SMS outbox, become contacts, chat live
// both ways (typing shows, a reply quotes, a recall shows to both, "Read"
// appears), the server restarts and both reconnect; one sends a photo and
// a voice message (Chromium's fake microphone) that the other sees and
// hears; they form a group, leave it, block and unblock. An operator given
// roles with the CLI approves an identity, a public account and a category
// in the console, and a follower sees the owner's post arrive live. The
// screens are saved to docs/screenshots/ at phone size.
//
// Run from the repository root: node --test web/e2e/
// PLAZA_BIN names a built binary (otherwise the test builds one);
// PLAZA_CHROMIUM names the browser (default /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { shots, phone, plazaBin, launchBrowser, png } from './harness.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'plaza-e2e-'));
const data = join(tmp, 'data');

let bin;
let server; // { proc, addr, logs }
let browser;

// startServer runs plaza serve and resolves with its address once it logs
// "plaza serving". listen may name a fixed address (to restart in place).
function startServer(listen = '127.0.0.1:0') {
  const proc = spawn(bin, [
    'serve', '--listen', listen, '--data', data, '--rate-limits', 'off',
    '--direct-messages', 'anyone', '--log-format', 'json',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const logs = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`plaza did not log "plaza serving" within 30s:\n${logs.join('\n')}`)), 30000);
    createInterface({ input: proc.stderr }).on('line', (line) => {
      logs.push(line);
      let rec;
      try { rec = JSON.parse(line); } catch { return; }
      if (rec.msg === 'plaza serving') {
        clearTimeout(timer);
        resolve({ proc, addr: rec.addr, logs });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`plaza exited with ${code} before serving:\n${logs.join('\n')}`));
    });
  });
}

function stopServer(s) {
  return new Promise((resolve) => {
    if (s.proc.exitCode !== null) return resolve();
    s.proc.once('exit', resolve);
    s.proc.kill('SIGTERM');
  });
}

before(async () => {
  bin = plazaBin(tmp);
  server = await startServer();
  // A fake microphone (a beep) for voice messages, granted without asking.
  browser = await launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
});

after(async () => {
  await browser?.close();
  if (server) await stopServer(server);
  rmSync(tmp, { recursive: true, force: true });
});

// person opens a phone-sized browser context that records console
// errors. Chromium logs every failed request ("Failed to load resource",
// "WebSocket connection to … failed"); those count only outside the steps
// that provoke refusals or outages on purpose (p.expectFailedRequests).
async function person(name) {
  const context = await browser.newContext({ viewport: phone, deviceScaleFactor: 2, baseURL: server.addr });
  await context.grantPermissions(['microphone'], { origin: server.addr });
  const page = await context.newPage();
  const p = { name, context, page, problems: [], expectFailedRequests: false };
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (p.expectFailedRequests && /^(Failed to load resource|WebSocket connection to .* failed)/.test(m.text())) return;
    p.problems.push(`${name} console: ${m.text()}`);
  });
  page.on('pageerror', (e) => p.problems.push(`${name} page error: ${e.message}`));
  return p;
}

async function register(p, handle, displayName, { screenshot } = {}) {
  const { page } = p;
  await page.goto('/register');
  await page.getByRole('heading', { name: 'Create your account' }).waitFor();
  await page.getByText('(version 1)').waitFor(); // the terms arrived from GET /terms
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Display name').fill(displayName);
  await page.getByLabel('Password').fill('a long passphrase');
  await page.getByLabel('Birth date').fill('1990-01-02');
  await page.getByLabel('I have read and accept these terms').check();
  if (screenshot) await page.screenshot({ path: join(shots, 'register.png') });
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
}

async function accountID(p) {
  await p.page.getByRole('link', { name: 'Settings' }).click();
  const id = await p.page.getByLabel('Your account ID').inputValue();
  assert.match(id, /^\d+$/);
  return id;
}

// png encodes a width×height RGB picture (a sunset-like gradient) as PNG.
// smsCode returns the latest code the development SMS outbox holds for a
// number (DATA/outbox/sms.jsonl, one JSON object a line).
function smsCode(to) {
  const file = join(data, 'outbox', 'sms.jsonl');
  const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
  const codes = lines.filter(Boolean).map((l) => JSON.parse(l)).filter((m) => m.to === to);
  assert.ok(codes.length > 0, `no SMS to ${to} in the outbox`);
  return codes.at(-1).code;
}

// verifyPhone confirms a phone number in settings with the code from the
// outbox; with wrongFirst it first types a wrong code and sees the attempts left.
async function verifyPhone(p, number, { wrongFirst } = {}) {
  const { page } = p;
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByText('not verified').waitFor();
  await page.getByLabel('Phone number').fill(number);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByText(/You can ask for a new code in \d+ s/).waitFor();
  // The development sender is in use: the screen says where the code went.
  await page.getByRole('note').filter({ hasText: 'DATA/outbox/sms.jsonl' }).waitFor();
  const code = smsCode(number);
  if (wrongFirst) {
    p.expectFailedRequests = true;
    const wrong = code === '000000' ? '111111' : '000000';
    await page.getByLabel('Verification code').fill(wrong);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('The code is incorrect: 4 attempts left.').waitFor();
    assert.equal(await page.getByLabel('Verification code').getAttribute('aria-invalid'), 'true');
    p.expectFailedRequests = false;
  }
  await page.getByLabel('Verification code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByText('Phone: verified').waitFor();
}

// grant gives a role with the CLI while the server runs.
function grant(handle, role) {
  execFileSync(bin, ['admin', 'grant', '--data', data, handle, role], { stdio: 'pipe' });
}

// bubble finds a delivered (not pending) message with the text.
const bubble = (page, text) => page.locator('.messages li.msg:not(.pending) .bubble', { hasText: text });

test('people register, verify, become contacts, chat with photos and voice, and follow a public account an operator approved', { timeout: 180000 }, async () => {
  const alice = await person('alice');
  const bob = await person('bob');

  // Server refusals appear in plain words beside their field.
  alice.expectFailedRequests = true;
  await alice.page.goto('/register');
  await alice.page.getByText('(version 1)').waitFor();
  await alice.page.getByLabel('Handle').fill('A!');
  await alice.page.getByLabel('Display name').fill('Alice');
  await alice.page.getByLabel('Password').fill('short');
  await alice.page.getByLabel('Birth date').fill('1990-01-02');
  await alice.page.getByLabel('I have read and accept these terms').check();
  await alice.page.getByRole('button', { name: 'Create account' }).click();
  await alice.page.locator('#handle-error').waitFor();
  await alice.page.locator('#password-error').waitFor();
  assert.equal(await alice.page.getByLabel('Handle').getAttribute('aria-invalid'), 'true');
  alice.expectFailedRequests = false;

  await register(alice, 'alice', 'Alice', { screenshot: true });
  await register(bob, 'bob', 'Bob');

  // A taken handle is named as such.
  const eve = await person('eve');
  await eve.page.goto('/register');
  await eve.page.getByText('(version 1)').waitFor();
  await eve.page.getByLabel('Handle').fill('alice');
  await eve.page.getByLabel('Display name').fill('Eve');
  await eve.page.getByLabel('Password').fill('a long passphrase');
  await eve.page.getByLabel('Birth date').fill('1990-01-02');
  await eve.page.getByLabel('I have read and accept these terms').check();
  await eve.page.getByRole('button', { name: 'Create account' }).click();
  await eve.page.getByText('This handle is taken').waitFor();
  await eve.context.close();

  // Without a verified phone, starting a chat is refused in plain words.
  alice.expectFailedRequests = true;
  const bobID = await accountID(bob);
  await alice.page.getByRole('link', { name: 'New chat' }).click();
  await alice.page.getByLabel('Their account ID').fill(bobID);
  await alice.page.getByRole('button', { name: 'Start chat' }).click();
  await alice.page.getByText('This needs a verified phone number.').waitFor();
  alice.expectFailedRequests = false;

  // Both verify their phones in settings with the codes sent by SMS.
  await verifyPhone(alice, '+8613800138001', { wrongFirst: true });
  await verifyPhone(bob, '+8613800138002');

  // Alice submits her identity for review; settings show it pending.
  await alice.page.getByLabel('Legal name').fill('Alice Example');
  await alice.page.getByLabel('Document type').selectOption('passport');
  await alice.page.getByLabel('Document number').fill('E12345678');
  await alice.page.getByLabel('Issuing country').fill('CN');
  await alice.page.getByRole('button', { name: 'Submit for review' }).click();
  await alice.page.getByText('submitted, waiting for review').waitFor();

  await bob.page.screenshot({ path: join(shots, 'settings.png') });

  // Alice asks Bob to be her contact with a note; Bob accepts it live.
  await alice.page.getByRole('link', { name: 'Contacts' }).click();
  await alice.page.getByLabel('Their account ID').fill(bobID);
  await alice.page.getByLabel('Note (optional)').fill('Alice from the book club');
  await alice.page.getByRole('button', { name: 'Send request' }).click();
  await alice.page.getByText('Request sent.').waitFor();
  await bob.page.getByRole('link', { name: 'Contacts' }).click();
  await bob.page.getByText('“Alice from the book club”').waitFor();
  await bob.page.getByRole('button', { name: 'Accept Alice' }).click();
  await bob.page.getByRole('button', { name: 'Chat with Alice' }).waitFor();

  // Alice starts the chat from her contact list and writes first.
  await alice.page.getByRole('button', { name: 'Chat with Bob' }).click();
  await alice.page.getByRole('heading', { name: 'Bob' }).waitFor();
  await bob.page.getByRole('link', { name: 'Chats', exact: true }).click();
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Hello Bob!');
  await alice.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await bubble(alice.page, 'Hello Bob!').waitFor();

  // Bob's list shows it live, unread, with the last message.
  const row = bob.page.getByRole('link', { name: /Alice/ });
  await row.getByText('Hello Bob!').waitFor();
  await row.getByLabel('1 unread').waitFor();
  await bob.page.screenshot({ path: join(shots, 'chat-list.png') });
  await row.click();
  await bubble(bob.page, 'Hello Bob!').waitFor();

  // Replies go both ways, live.
  await bob.page.getByRole('textbox', { name: 'Message' }).fill('Hi Alice, good to see you here.');
  await bob.page.getByRole('button', { name: 'Send' }).click();
  await bubble(alice.page, 'Hi Alice, good to see you here.').waitFor();
  // While Alice types, Bob sees it under the header.
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Shall we meet at the plaza at six?');
  await bob.page.getByText('Alice is typing…').waitFor();
  await alice.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await bubble(bob.page, 'Shall we meet at the plaza at six?').waitFor();

  // The server restarts in place: both show "Reconnecting…", come back by
  // themselves and keep chatting.
  const addr = new URL(server.addr).host;
  alice.expectFailedRequests = bob.expectFailedRequests = true;
  await stopServer(server);
  await alice.page.getByText('Reconnecting…').waitFor();
  await bob.page.getByText('Reconnecting…').waitFor();
  await bob.page.screenshot({ path: join(shots, 'reconnecting.png') });
  server = await startServer(addr);
  await alice.page.getByText('Reconnecting…').waitFor({ state: 'hidden', timeout: 30000 });
  await bob.page.getByText('Reconnecting…').waitFor({ state: 'hidden', timeout: 30000 });
  alice.expectFailedRequests = bob.expectFailedRequests = false;
  await bob.page.getByRole('textbox', { name: 'Message' }).fill('Six works. See you!');
  await bob.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await bubble(alice.page, 'Six works. See you!').waitFor();
  await bubble(bob.page, 'Six works. See you!').waitFor();
  await bob.page.screenshot({ path: join(shots, 'chat.png') });

  // Alice replies to Bob's message (Escape first cancels a reply); Bob sees
  // the quote. She recalls a message sent by mistake, and Bob sees it go.
  const msg = (page, text) => page.locator('.messages li.msg:not(.pending)', { hasText: text });
  const six = msg(alice.page, 'Six works. See you!');
  await six.getByRole('button', { name: 'Message actions' }).click();
  await six.getByRole('button', { name: 'Reply', exact: true }).click();
  await alice.page.getByText('Replying to').waitFor();
  await alice.page.getByRole('textbox', { name: 'Message' }).press('Escape');
  await alice.page.getByText('Replying to').waitFor({ state: 'hidden' });
  await six.getByRole('button', { name: 'Message actions' }).click();
  await six.getByRole('button', { name: 'Reply', exact: true }).click();
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Perfect, I will bring coffee.');
  await alice.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await msg(bob.page, 'Perfect, I will bring coffee.').locator('.quote', { hasText: 'Six works. See you!' }).waitFor();
  await alice.page.getByText('Replying to').waitFor({ state: 'hidden' });
  // Bob has the chat open, so Alice sees that he read it.
  await msg(alice.page, 'Perfect, I will bring coffee.').locator('.read', { hasText: 'Read' }).waitFor();
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Oops, wrong chat');
  await alice.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await bubble(bob.page, 'Oops, wrong chat').waitFor();
  const oops = msg(alice.page, 'Oops, wrong chat');
  await oops.getByRole('button', { name: 'Message actions' }).click();
  await oops.getByRole('button', { name: 'Recall' }).click();
  await bubble(alice.page, 'Message recalled').waitFor();
  await bubble(bob.page, 'Message recalled').waitFor();
  await bubble(bob.page, 'Oops, wrong chat').waitFor({ state: 'hidden' });

  // Alice sends a photo and a 2-second voice message from the fake
  // microphone; Bob sees the photo's thumbnail and can play the voice.
  await alice.page.locator('#photo-input').setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: png(480, 320) });
  await alice.page.locator('.messages li.msg:not(.pending) img[alt="Photo"]').waitFor();
  const bobPhoto = bob.page.locator('.messages li.msg:not(.pending) img[alt="Photo"]');
  await bobPhoto.waitFor();
  await bob.page.waitForFunction(() => {
    const img = document.querySelector('.messages li.msg:not(.pending) img[alt="Photo"]');
    return img && img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:');
  });
  await bob.page.getByRole('button', { name: 'Open the photo full size' }).click();
  await bob.page.getByRole('dialog', { name: 'Photo' }).getByRole('img', { name: 'Photo, full size' }).waitFor();
  await bob.page.keyboard.press('Escape');
  await bob.page.getByRole('dialog', { name: 'Photo' }).waitFor({ state: 'hidden' });
  await alice.page.getByRole('button', { name: 'Record a voice message' }).click();
  await alice.page.getByText(/Recording 0:0\d/).waitFor();
  await alice.page.waitForTimeout(2200);
  await alice.page.getByRole('button', { name: 'Stop and send' }).click();
  await alice.page.locator('.messages li.msg:not(.pending) .voice-duration').waitFor();
  const bobVoice = bob.page.locator('.messages li.msg:not(.pending) .voice');
  await bobVoice.locator('audio').waitFor();
  await bobVoice.getByText(/, 0:0[1-3]/).waitFor();
  await bob.page.getByRole('link', { name: 'Back to chats' }).click();
  await bob.page.getByRole('link', { name: /Alice/ }).getByText('Voice message').waitFor();
  await bob.page.getByRole('link', { name: /Alice/ }).click();
  await bobVoice.getByText(/, 0:0[1-3]/).waitFor();
  await bob.page.locator('.messages').evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await bob.page.screenshot({ path: join(shots, 'chat-media.png') });

  // History loads after a reload, and signing out and in again works.
  await alice.page.reload();
  await bubble(alice.page, 'Hello Bob!').waitFor();
  await alice.page.getByRole('link', { name: 'Back to chats' }).click();
  await alice.page.getByRole('link', { name: 'Settings' }).click();
  await alice.page.getByRole('button', { name: 'Sign out', exact: true }).last().click();
  await alice.page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await alice.page.getByLabel('Handle').fill('alice');
  alice.expectFailedRequests = true;
  await alice.page.getByLabel('Password').fill('wrong password');
  await alice.page.getByRole('button', { name: 'Sign in' }).click();
  await alice.page.getByText('The handle or the password is wrong.').waitFor();
  alice.expectFailedRequests = false;
  await alice.page.getByLabel('Password').fill('a long passphrase');
  await alice.page.getByRole('button', { name: 'Sign in' }).click();
  await alice.page.getByRole('link', { name: /Bob/ }).getByText('Voice message').waitFor();

  // Alice sends a file; Bob saves it from its chip under its name.
  await alice.page.getByRole('link', { name: /Bob/ }).click();
  await alice.page.locator('#file-input').setInputFiles({ name: 'route.txt', mimeType: 'text/plain', buffer: Buffer.from('Meet by the fountain.\n') });
  await alice.page.getByRole('button', { name: 'Download route.txt' }).waitFor();
  const [download] = await Promise.all([
    bob.page.waitForEvent('download'),
    bob.page.getByRole('button', { name: 'Download route.txt' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'route.txt');
  assert.equal(readFileSync(await download.path(), 'utf8'), 'Meet by the fountain.\n');

  // Alice makes a group, invites Bob, and Bob sees it live, reads, and leaves.
  await alice.page.getByRole('link', { name: 'Back to chats' }).click();
  await alice.page.getByRole('link', { name: 'New group' }).click();
  await alice.page.getByLabel('Group title').fill('Six o’clock walk');
  await alice.page.getByRole('button', { name: 'Create group' }).click();
  await alice.page.getByRole('heading', { name: 'Six o’clock walk' }).waitFor();
  await alice.page.getByRole('button', { name: 'Group info' }).click();
  await alice.page.getByLabel('Contact to invite').selectOption({ label: 'Bob (@bob)' });
  await alice.page.getByRole('button', { name: 'Invite' }).click();
  await alice.page.getByRole('list', { name: 'Members' }).getByText('Bob (@bob)').waitFor();
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Who is coming?');
  await alice.page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await bob.page.getByRole('link', { name: 'Back to chats' }).click();
  await bob.page.getByRole('link', { name: /Six o’clock walk/ }).getByText('Who is coming?').waitFor();
  await bob.page.getByRole('link', { name: /Six o’clock walk/ }).click();
  await bubble(bob.page, 'Who is coming?').waitFor();
  await bob.page.getByRole('button', { name: 'Group info' }).click();
  await bob.page.getByRole('button', { name: 'Leave group' }).click();
  await bob.page.getByRole('alertdialog').getByRole('button', { name: 'Leave', exact: true }).click();
  await bob.page.getByRole('heading', { name: 'Chats' }).waitFor();
  await alice.page.getByRole('list', { name: 'Members' }).getByText('Bob (@bob)').waitFor({ state: 'hidden' });

  // Bob blocks Alice and lifts the block again.
  await bob.page.getByRole('link', { name: 'Contacts' }).click();
  await bob.page.getByRole('button', { name: 'Block Alice' }).click();
  await bob.page.getByRole('alertdialog', { name: 'Block Alice?' }).getByRole('button', { name: 'Block', exact: true }).click();
  await bob.page.getByRole('button', { name: 'Unblock Alice' }).click();
  await bob.page.getByRole('heading', { name: 'Blocked' }).waitFor({ state: 'hidden' });

  // Public accounts. Olga operates the server (roles granted with the CLI
  // while it runs) and approves Alice's identity in the console, where the
  // legal name shows; then Alice's application, and opens a category. Bob
  // follows the new account and sees its post arrive in his feed, live.
  const olga = await person('olga');
  await register(olga, 'olga', 'Olga');
  for (const role of ['compliance', 'reviewer', 'admin']) grant('olga', role);
  await olga.page.reload();
  await olga.page.getByRole('link', { name: 'Settings' }).click();
  await olga.page.getByRole('link', { name: 'Open the operator console' }).click();
  await olga.page.getByRole('heading', { name: 'Operator console' }).waitFor();
  await olga.page.getByText('Alice Example', { exact: true }).waitFor();
  await olga.page.getByText('Passport E12345678 (CN)').waitFor();
  await olga.page.screenshot({ path: join(shots, 'console.png') });
  await olga.page.getByLabel('Reason for identity of Alice Example').fill('document checked');
  await olga.page.getByRole('button', { name: 'Approve identity of Alice Example' }).click();
  await olga.page.getByText('No identities are waiting.').waitFor();
  await alice.page.getByRole('link', { name: 'Back to chats' }).click();
  await alice.page.getByRole('link', { name: 'Settings' }).click();
  await alice.page.reload();
  await alice.page.getByText('Identity: verified').waitFor();

  await alice.page.getByRole('link', { name: 'Channels' }).click();
  await alice.page.getByRole('link', { name: 'Apply' }).click();
  await alice.page.getByLabel('Handle').fill('plaza_news');
  await alice.page.getByLabel('Name').fill('Plaza News');
  await alice.page.getByLabel('Description').fill('What happens around the plaza, every day.');
  await alice.page.getByRole('button', { name: 'Send application' }).click();
  await alice.page.getByText('waiting for review').waitFor();
  await olga.page.getByRole('tab', { name: 'Channel applications' }).click();
  await olga.page.getByText('What happens around the plaza, every day.').waitFor();
  await olga.page.getByLabel('Reason for application for Plaza News').fill('welcome');
  await olga.page.getByRole('button', { name: 'Approve application for Plaza News' }).click();
  await olga.page.getByText('No applications are waiting.').waitFor();
  await olga.page.getByRole('tab', { name: 'Categories' }).click();
  await olga.page.getByText('No categories yet').waitFor();
  await olga.page.getByLabel('Category name').fill('news');
  await olga.page.getByLabel('Policy').selectOption('open');
  await olga.page.getByLabel('Category description').fill('Local news');
  await olga.page.getByRole('button', { name: 'Save category' }).click();
  await olga.page.getByRole('list', { name: 'Categories' }).getByText('news', { exact: true }).waitFor();

  await bob.page.getByRole('link', { name: 'Channels' }).click();
  await bob.page.getByLabel('Search public accounts').fill('plaza');
  await bob.page.getByRole('button', { name: 'Search', exact: true }).click();
  await bob.page.getByRole('link', { name: /Plaza News/ }).click();
  await bob.page.getByRole('button', { name: 'Follow' }).click();
  await bob.page.getByRole('button', { name: 'Following' }).waitFor();
  await bob.page.getByRole('link', { name: '← Public accounts' }).click();
  await bob.page.getByText('Nothing yet.').waitFor();

  await alice.page.reload();
  await alice.page.getByText('approved: welcome').waitFor();
  await alice.page.getByRole('button', { name: 'Open Plaza News' }).click();
  await alice.page.getByRole('heading', { name: /Plaza News/ }).waitFor();
  await alice.page.getByLabel('Title').fill('Market opens on Saturday');
  await alice.page.getByLabel('Category').selectOption('news');
  await alice.page.getByLabel('Text').fill('The **plaza market** opens at nine.\n\n- fruit\n- bread\n- flowers');
  await alice.page.getByRole('button', { name: 'Publish' }).click();
  await alice.page.getByText('Published.').waitFor();

  const feedPost = bob.page.locator('.post', { hasText: 'Market opens on Saturday' });
  await feedPost.locator('.post-body strong', { hasText: 'plaza market' }).waitFor();
  await bob.page.getByRole('list', { name: 'Unread posts' }).getByLabel('1 unread').waitFor();
  await feedPost.getByRole('link', { name: 'Plaza News' }).click();
  await bob.page.getByRole('heading', { name: 'Market opens on Saturday' }).waitFor();
  await bob.page.screenshot({ path: join(shots, 'channel.png') });

  // Olga suspends Bob's account by handle and reinstates it; the audit log
  // holds every decision and its chain verifies.
  await olga.page.getByRole('tab', { name: 'Accounts' }).click();
  await olga.page.getByLabel('Handle to find').fill('bob');
  await olga.page.getByRole('button', { name: 'Find' }).click();
  await olga.page.getByLabel('Reason', { exact: true }).fill('checking a report');
  await olga.page.getByRole('button', { name: 'Suspend' }).click();
  await olga.page.getByText('Status: suspended').waitFor();
  await olga.page.getByLabel('Reason', { exact: true }).fill('report was unfounded');
  await olga.page.getByRole('button', { name: 'Reinstate' }).click();
  await olga.page.getByText('Status: active').waitFor();
  await olga.page.getByRole('tab', { name: 'Audit log' }).click();
  await olga.page.getByText(/Chain intact: \d+ entries verified\./).waitFor();
  await olga.page.getByRole('list', { name: 'Audit entries' }).getByText(/identity/).first().waitFor();
  await olga.context.close();

  const problems = [...alice.problems, ...bob.problems, ...olga.problems];
  assert.deepEqual(problems, [], 'the browser logged errors');
  await alice.context.close();
  await bob.context.close();
});
