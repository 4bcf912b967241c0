// Browser tests of the interface in Simplified Chinese against the real
// binary: a browser whose language is Chinese gets the Chinese interface
// from the first page, refusals are explained in Chinese from the error
// code (never the server's English), and the language and theme chosen in
// Settings apply at once and survive a reload. Each test has its own server.
//
// Run from the repository root: node --test web/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { account, launchBrowser, phone, startServer } from './harness.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** chineseContext opens a phone-sized context whose browser speaks Chinese, signed in when acct is given. */
async function chineseContext(server, acct) {
  const context = await browser.newContext({ viewport: phone, deviceScaleFactor: 2, baseURL: server.addr, locale: 'zh-CN' });
  if (acct) await context.addInitScript((token) => localStorage.setItem('plaza.token', token), acct.token);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  return { context, page, problems };
}

const htmlLang = (page) => page.evaluate(() => document.documentElement.lang);
// Latin words of three letters or more: English that leaked into a Chinese sentence.
const english = /[A-Za-z]{3,}/;

test('a browser in Chinese registers in Chinese and sees Chinese settings', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const { context, page, problems } = await chineseContext(server);
  t.after(() => context.close());

  await page.goto('/register');
  await page.getByRole('heading', { name: '注册账号' }).waitFor();
  assert.equal(await htmlLang(page), 'zh-CN');
  await page.getByText('（第 1 版）').waitFor(); // the terms arrived
  await page.getByLabel('账号').fill('mei');
  await page.getByLabel('昵称').fill('小美');
  await page.getByLabel('密码').fill('a long passphrase');
  await page.getByLabel('出生日期').fill('1992-05-06');
  await page.getByLabel('我已阅读并同意以上条款').check();
  await page.getByRole('button', { name: '注册', exact: true }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/register'));

  await page.goto('/settings');
  await page.getByRole('heading', { level: 1, name: '设置' }).waitFor();
  for (const [id, name] of [
    ['profile', '个人资料'],
    ['privacy', '隐私'],
    ['notifications', '消息通知'],
    ['language', '语言与外观'],
    ['sessions', '登录设备'],
    ['data', '我的数据'],
    ['identity', '身份认证'],
  ]) {
    const h = page.getByRole('heading', { level: 2, name, exact: true });
    assert.equal(await h.getAttribute('id'), id, `the heading ${name} has the id ${id}`);
  }
  await page.getByText('当前登录账号：@mei。').waitFor();
  assert.equal(await page.getByLabel('语言', { exact: true }).inputValue(), 'zh-CN');
  assert.equal(await page.getByLabel('外观', { exact: true }).inputValue(), 'system');
  assert.deepEqual(problems, []);
});

test('a wrong password is explained in Chinese from the error code', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  await account(server, 'lei', '雷');
  const { context, page, problems } = await chineseContext(server);
  t.after(() => context.close());

  await page.goto('/login');
  await page.getByRole('heading', { name: '登录' }).waitFor();
  await page.getByLabel('账号').fill('lei');
  await page.getByLabel('密码').fill('not the password');
  await page.getByRole('button', { name: '登录' }).click();
  const alert = page.getByRole('alert');
  await alert.getByText('账号或密码错误。').waitFor();
  const text = await alert.innerText();
  assert.doesNotMatch(text, english, `the explanation is all Chinese: ${text}`);
  assert.deepEqual(problems, []);
});

test('choosing English in settings changes the interface at once and survives a reload', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const acct = await account(server, 'jun', '小军');
  const { context, page, problems } = await chineseContext(server, acct);
  t.after(() => context.close());

  await page.goto('/settings#language');
  await page.getByRole('heading', { level: 1, name: '设置' }).waitFor();
  await page.getByLabel('语言', { exact: true }).selectOption('en');
  // No reload: the page re-renders in English.
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  await page.getByRole('heading', { level: 2, name: 'Language and appearance' }).waitFor();
  assert.equal(await htmlLang(page), 'en');
  assert.equal(await page.getByLabel('Language', { exact: true }).inputValue(), 'en');

  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  assert.equal(await htmlLang(page), 'en');
  assert.equal(await page.getByRole('heading', { name: '设置' }).count(), 0);

  // And back to Chinese, which the browser prefers anyway.
  await page.getByLabel('Language', { exact: true }).selectOption('zh-CN');
  await page.getByRole('heading', { level: 1, name: '设置' }).waitFor();
  assert.equal(await htmlLang(page), 'zh-CN');
  assert.deepEqual(problems, []);
});

test('the theme chosen in settings applies at once and survives a reload', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const acct = await account(server, 'ying', '小英');
  const { context, page, problems } = await chineseContext(server, acct);
  t.after(() => context.close());
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme ?? 'system');

  await page.goto('/settings');
  await page.getByRole('heading', { level: 1, name: '设置' }).waitFor();
  assert.equal(await theme(), 'system');
  await page.getByLabel('外观', { exact: true }).selectOption('dark');
  assert.equal(await theme(), 'dark');
  await page.reload();
  await page.getByRole('heading', { level: 1, name: '设置' }).waitFor();
  assert.equal(await theme(), 'dark');
  assert.equal(await page.getByLabel('外观', { exact: true }).inputValue(), 'dark');
  await page.getByLabel('外观', { exact: true }).selectOption('system');
  assert.equal(await theme(), 'system');
  assert.deepEqual(problems, []);
});
