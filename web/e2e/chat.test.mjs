// End-to-end test of the web client against the real binary in real
// Chromium: two people register through the UI, one starts a direct chat
// with the other, they exchange messages live both ways, the server
// restarts and both reconnect, and the screens are saved to
// docs/screenshots/ at phone size.
//
// Run from the repository root: node --test web/e2e/
// PLAZA_BIN names a built binary (otherwise the test builds one);
// PLAZA_CHROMIUM names the browser (default /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shots = join(root, 'docs', 'screenshots');
const chromiumPath = process.env.PLAZA_CHROMIUM || '/usr/bin/chromium';
const phone = { width: 390, height: 844 };
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
    '--verification-policy', 'message.send=none,conversation.create=none,contact.request=none',
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
  if (!existsSync(chromiumPath)) {
    assert.fail(`Chromium not found at ${chromiumPath}: install it with "apt-get update && apt-get install -y chromium" ` +
      '(.ci/run does), or set PLAZA_CHROMIUM to its path.');
  }
  bin = process.env.PLAZA_BIN;
  if (!bin) {
    bin = join(tmp, 'plaza');
    execFileSync('go', ['build', '-o', bin, './cmd/plaza'], { cwd: root, stdio: 'inherit' });
  }
  server = await startServer();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(shots, { recursive: true });
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

// bubble finds a delivered (not pending) message with the text.
const bubble = (page, text) => page.locator('.messages li.msg:not(.pending) .bubble', { hasText: text });

test('two people register, chat live both ways and survive a server restart', { timeout: 180000 }, async () => {
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

  // Alice starts a chat with Bob by his account ID and writes first.
  const bobID = await accountID(bob);
  await bob.page.screenshot({ path: join(shots, 'settings.png') });
  await bob.page.getByRole('link', { name: 'Chats' }).click();
  await alice.page.getByRole('link', { name: 'New chat' }).click();
  await alice.page.getByLabel('Their account ID').fill(bobID);
  await alice.page.getByRole('button', { name: 'Start chat' }).click();
  await alice.page.getByRole('heading', { name: 'Bob' }).waitFor();
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
  await alice.page.getByRole('textbox', { name: 'Message' }).fill('Shall we meet at the plaza at six?');
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

  // History loads after a reload, and signing out and in again works.
  await alice.page.reload();
  await bubble(alice.page, 'Hello Bob!').waitFor();
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
  await alice.page.getByRole('link', { name: /Bob/ }).getByText('Six works. See you!').waitFor();

  const problems = [...alice.problems, ...bob.problems];
  assert.deepEqual(problems, [], 'the browser logged errors');
  await alice.context.close();
  await bob.context.close();
});
