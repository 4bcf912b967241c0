// Browser test of the first run: a server started on a fresh data dir
// with no administrator logs a one-time setup link; opening it lets the
// first person register as the administrator and lands in the operator
// console; the link then no longer works, and the page says so.
//
// Run from the repository root: node --test web/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, phone, shot, startServer } from './harness.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** setupLink returns the link the server logged, or fails. */
function setupLink(server) {
  for (const line of server.logs) {
    let rec;
    try { rec = JSON.parse(line); } catch { continue; }
    if (rec.setup_link) return rec.setup_link;
  }
  assert.fail(`the server logged no setup link:\n${server.logs.join('\n')}`);
}

/** fillRegistration fills the registration form on page. */
async function fillRegistration(page, handle, name) {
  await page.getByText('(version 1)').waitFor();
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Display name').fill(name);
  await page.getByLabel('Password').fill('a long passphrase');
  await page.getByLabel('Birth date').fill('1980-03-04');
  await page.getByLabel('I have read and accept these terms').check();
  await page.getByRole('button', { name: 'Create account' }).click();
}

test('first run: the logged setup link makes the first person the administrator, once', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const link = setupLink(server);
  assert.match(link, /\/setup#[0-9a-f]{32}$/);

  const context = await browser.newContext({ viewport: phone, deviceScaleFactor: 2 });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(link);
  await page.getByRole('heading', { name: 'Set up Plaza' }).waitFor();
  await page.getByText('becomes its administrator').waitFor();
  await shot(page, 'setup.png');
  await fillRegistration(page, 'founder', 'Founder');
  await page.getByRole('heading', { name: 'Operator console' }).waitFor();
  const me = await page.evaluate(async () => {
    const res = await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${localStorage.getItem('plaza.token')}` } });
    return res.json();
  });
  assert.ok(me.roles.includes('admin'), `the first person's roles: ${me.roles}`);
  // The console says what waits for an administrator and what each role does.
  await page.getByRole('heading', { name: 'Waiting for you' }).waitFor();
  await page.getByRole('button', { name: /0\s*reported items/ }).waitFor();
  await page.getByText('What each role does').click();
  await page.getByText('The only role that sees legal names').waitFor();
  await context.close();

  // The link is spent: a second person sees why, and gets no account.
  const late = await browser.newContext({ viewport: phone });
  const latePage = await late.newPage();
  await latePage.goto(link);
  await fillRegistration(latePage, 'second', 'Second');
  await latePage.getByText('has an administrator already, so the setup link no longer works').waitFor();
  await late.close();
  await assert.rejects(server.call(null, 'POST', '/sessions', { handle: 'second', password: 'a long passphrase' }), /401/);
  assert.deepEqual(problems, []);
});

test('a wrong setup token is refused in plain words', { timeout: 60000 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const link = setupLink(server).replace(/#.*/, '#00000000000000000000000000000000');
  const context = await browser.newContext({ viewport: phone });
  const page = await context.newPage();
  await page.goto(link);
  await fillRegistration(page, 'guesser', 'Guesser');
  await page.getByText('This setup link is not valid').waitFor();
  await context.close();
});
