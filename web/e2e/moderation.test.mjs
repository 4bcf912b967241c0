// Browser tests of moderation against the real binary in real Chromium.
// Each test starts its own server and sets up, through the API, whatever
// it does not test through the pages: a person reports a post (and a
// message, with context); a moderator removes it from the console queue;
// its author reads the statement of reasons and appeals; the moderator who
// decided cannot decide the appeal, a second one reverses it and the post
// is back; a suspended person who signs in lands on the decision; an admin
// records an authority order that a moderator acts on without a report;
// and the public transparency page shows the counts. Screens are saved to
// docs/screenshots/.
//
// Run from the repository root: node --test web/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { account, launchBrowser, person, phone, poll, shot, startServer } from './harness.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// scenario runs body with a fresh server and closes everything after it;
// no browser errors may have been logged.
async function scenario(body) {
  const server = await startServer();
  const people = [];
  const open = async (acct) => {
    const p = await person(browser, server, acct);
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

// moderator makes an account and gives it the moderator role.
async function moderator(server, handle, name) {
  const m = await account(server, handle, name);
  server.grant(handle, 'moderator');
  return m;
}

// status returns the HTTP status of one API request.
async function status(server, token, method, path) {
  const res = await fetch(`${server.addr}/api/v1${path}`, { method, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return res.status;
}

// queueItem finds the open queue item about a target.
async function queueItem(server, mod, type, id) {
  const q = await server.call(mod.token, 'GET', `/admin/reports?status=open&target_type=${type}`);
  const it = q.items.find((x) => x.target_type === type && String(x.target_id) === String(id));
  assert.ok(it, `no open queue item for ${type} ${id}`);
  return it;
}

const card = (page, text) => page.locator('article.mb-post', { hasText: text });

test('a person reports a post with a rule and a comment, cannot report it twice, and follows it in My reports', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const { items: rules } = await server.call(null, 'GET', '/rules');
    assert.ok(rules.length >= 5, `want the default rules, got ${rules.length}`);
    const alice = await account(server, 'alice', 'Alice');
    const bob = await open(await account(server, 'bob', '鲍勃 Bob'));
    const post = await server.call(alice.token, 'POST', '/posts', { text: '限时特价！Cheap watches, pay first: example.com/shop', visibility: 'public' });
    const { page } = bob;

    await page.goto(`/posts/${post.id}`);
    const main = page.locator('article.mb-post.detail');
    await main.getByText('限时特价').waitFor();
    const opener = main.getByRole('button', { name: 'Report this post' });
    await opener.click();
    const dialog = page.getByRole('dialog', { name: 'Report this post' });
    await dialog.waitFor();
    // Every published rule is offered, each with its number and title.
    for (const r of rules) await dialog.getByRole('radio', { name: new RegExp(`^${r.id}\\. ${escape(r.title)}`) }).waitFor();
    // Sending without a rule is stopped in the page.
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByText('Choose the rule it breaks.').waitFor();
    const spam = rules[0];
    await dialog.getByRole('radio', { name: new RegExp(`^${spam.id}\\. `) }).check();
    await dialog.getByLabel('What is wrong (optional)').fill('假货广告 — a fake shop that takes money.');
    await shot(page, 'moderation-report.png');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByRole('status').getByText('Your report was sent').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
    // Focus goes back to the button that opened the dialog.
    assert.equal(await opener.evaluate((el) => el === document.activeElement), true);

    // On the server: one open report with the rule and the comment.
    const mine = await server.call(bob.token, 'GET', '/me/reports');
    assert.equal(mine.items.length, 1);
    assert.equal(mine.items[0].target_type, 'post');
    assert.equal(String(mine.items[0].target_id), String(post.id));
    assert.equal(Number(mine.items[0].rule_id), spam.id);
    assert.equal(mine.items[0].status, 'open');

    // Reporting it again while that report is open is refused in plain words.
    bob.expectFailedRequests = true;
    await opener.click();
    await dialog.getByRole('radio', { name: new RegExp(`^${spam.id}\\. `) }).check();
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByRole('alert').getByText('You have already reported this').waitFor();
    // Escape closes the dialog.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    bob.expectFailedRequests = false;

    // My reports, from Settings: the report is open.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'My reports' }).click();
    const row = page.getByRole('list', { name: 'My reports' }).locator('li').first();
    await row.getByText('Open: waiting for a moderator').waitFor();
    await row.getByText(`Rule ${spam.id}: ${spam.title}`).waitFor();
    await row.getByText('假货广告').waitFor();
  });
});

test('a message is reported with the messages before it, which the moderator sees as evidence', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const { items: rules } = await server.call(null, 'GET', '/rules');
    const carl = await account(server, 'carl', 'Carl');
    const dora = await open(await account(server, 'dora', 'Dora'));
    const req = await server.call(carl.token, 'POST', '/contacts/requests', { account_id: dora.id, note: 'hi' });
    await server.call(dora.token, 'POST', `/contacts/requests/${req.id}/accept`);
    const conv = await server.call(carl.token, 'POST', '/conversations', { kind: 'direct', member_ids: [dora.id] });
    const texts = ['你好', 'Do you want cheap followers?', 'Send 500 yuan to this account now or else'];
    for (const [i, text] of texts.entries()) {
      await server.call(i === 0 ? dora.token : carl.token, 'POST', `/conversations/${conv.id}/messages`, { client_id: `c${i}`, kind: 'text', text });
    }
    const { page } = dora;
    await page.goto(`/chats/${conv.id}`);
    const bubble = page.locator('li.msg', { hasText: 'Send 500 yuan' });
    await bubble.getByRole('button', { name: 'Message actions' }).click();
    await bubble.getByRole('button', { name: 'Report' }).click();
    const dialog = page.getByRole('dialog', { name: 'Report this message' });
    await dialog.getByRole('radio', { name: new RegExp(`^${rules[1].id}\\. `) }).check();
    await dialog.getByLabel('Include up to 10 earlier messages as context').check();
    await dialog.getByLabel('What is wrong (optional)').fill('Threats after I said no.');
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByRole('status').getByText('Your report was sent').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    // Her own messages have nothing to report.
    await page.locator('li.msg.mine', { hasText: '你好' }).getByRole('button', { name: 'Message actions' }).click();
    assert.equal(await page.locator('li.msg.mine', { hasText: '你好' }).getByRole('button', { name: 'Report' }).count(), 0);

    // The moderator sees the reported message and the ones before it, and nothing else of the conversation.
    const mod = await open(await moderator(server, 'mona', 'Mona'));
    await mod.page.goto('/console');
    await mod.page.getByRole('tab', { name: 'Reports' }).click();
    const item = mod.page.getByRole('list', { name: 'Reported items' }).locator('li.queue-item').first();
    const evidence = item.getByRole('list', { name: 'Attached messages' });
    await evidence.getByText('Send 500 yuan').waitFor();
    await evidence.getByText('Do you want cheap followers?').waitFor();
    await evidence.getByText('你好').waitFor();
    await item.getByText('Threats after I said no.').waitFor();
    assert.match(await evidence.locator('li.reported').innerText(), /Send 500 yuan/);
  });
});

test('a moderator removes a reported post from the console queue', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const { items: rules } = await server.call(null, 'GET', '/rules');
    const erin = await account(server, 'erin', 'Erin');
    const finn = await account(server, 'finn', 'Finn');
    const gus = await account(server, 'gus', 'Gus');
    const other = await server.call(erin.token, 'POST', '/posts', { text: 'A harmless post about lunch', visibility: 'public' });
    await server.call(gus.token, 'POST', '/reports', { target_type: 'post', target_id: other.id, rule_id: rules[1].id, comment: 'I just do not like it' });
    const post = await server.call(erin.token, 'POST', '/posts', { text: '转发抽奖：先付 99 元手续费 Pay a fee to win an iPhone', visibility: 'public' });
    // Two people report the same post: one queue item with a count.
    await server.call(finn.token, 'POST', '/reports', { target_type: 'post', target_id: post.id, rule_id: rules[0].id, comment: 'Scam lottery' });
    await server.call(gus.token, 'POST', '/reports', { target_type: 'post', target_id: post.id, rule_id: rules[0].id, comment: '骗子' });
    const mod = await open(await moderator(server, 'olga', 'Olga'));
    // An earlier decision about Erin, a label, shows to everyone on her post and in the queue's history.
    const old = await server.call(erin.token, 'POST', '/posts', { text: 'Lemon water cures colds', visibility: 'public' });
    await server.call(mod.token, 'POST', '/admin/decisions', {
      target_type: 'post', target_id: old.id, action: 'label', rule_id: rules[3].id,
      reason: 'Health claim without evidence.', label: 'No evidence supports this health claim.',
    });
    const reader = await open(finn);
    await reader.page.goto(`/posts/${old.id}`);
    await card(reader.page, 'Lemon water').getByText('No evidence supports this health claim.').waitFor();
    await card(reader.page, 'Lemon water').getByText('Moderators’ note:').waitFor();
    const { page } = mod;
    await page.goto('/settings');
    await page.getByRole('link', { name: 'Open the operator console' }).click();
    await page.getByRole('tab', { name: 'Reports' }).click();
    const items = page.getByRole('list', { name: 'Reported items' });
    await items.locator('li.queue-item', { hasText: 'Pay a fee' }).waitFor();
    await items.locator('li.queue-item', { hasText: 'harmless post' }).waitFor();

    // Filters: by rule, and by what was reported.
    await page.getByLabel('Rule', { exact: true }).selectOption(String(rules[0].id));
    await poll('rule filter', async () => (await items.locator('li.queue-item', { hasText: 'harmless post' }).count()) === 0);
    await items.locator('li.queue-item', { hasText: 'Pay a fee' }).waitFor();
    await page.getByLabel('Reported', { exact: true }).selectOption('account');
    await page.getByText('No reports are waiting.').waitFor();
    await page.getByLabel('Reported', { exact: true }).selectOption('post');

    const item = items.locator('li.queue-item', { hasText: 'Pay a fee' });
    await item.getByText('2 reports').waitFor();
    await item.getByText('Scam lottery').waitFor();
    await item.getByText('骗子').waitFor();
    await item.locator('.snapshot').getByText('转发抽奖').waitFor();
    await item.getByRole('list', { name: 'Earlier decisions' }).getByText(/Labelled · Rule/).waitFor();

    // A reason is required for a removal.
    await item.getByRole('radio', { name: 'Remove' }).check();
    await item.getByRole('button', { name: 'Decide' }).click();
    await item.getByText('Give the reasons').waitFor();
    await item.getByLabel('Reason (shown to the person)').fill('The post asks for a fee to enter a lottery that does not exist: a scam under rule 1.');
    // The console is made for a wider screen.
    await page.setViewportSize({ width: 760, height: 1500 });
    await item.scrollIntoViewIfNeeded();
    await shot(page, 'moderation-queue.png');
    await item.getByRole('button', { name: 'Decide' }).click();
    await item.waitFor({ state: 'detached' });
    await page.getByText(/^Decided: Removed \(decision \d+\)\.$/).waitFor();

    // Others no longer see the post; the author sees it marked removed.
    assert.equal(await status(server, finn.token, 'GET', `/posts/${post.id}`), 404);
    assert.equal(await status(server, null, 'GET', `/posts/${post.id}`), 404);
    const own = await server.call(erin.token, 'GET', `/posts/${post.id}`);
    assert.equal(own.removed, true);
    assert.ok(own.decision_id, 'the author’s copy names the decision');
    // The reporters see the outcome.
    const finnReports = await server.call(finn.token, 'GET', '/me/reports');
    assert.equal(finnReports.items[0].status, 'decided');
    assert.equal(finnReports.items[0].outcome.action, 'remove');
    // Decided items are under "Decided".
    await page.getByLabel('Status').selectOption('decided');
    await items.locator('li.queue-item', { hasText: 'Pay a fee' }).waitFor();
  });
});

test('the author reads the statement of reasons and appeals', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const { items: rules } = await server.call(null, 'GET', '/rules');
    const hana = await open(await account(server, 'hana', '花 Hana'));
    const ivan = await account(server, 'ivan', 'Ivan');
    const mod = await moderator(server, 'olga', 'Olga');
    const post = await server.call(hana.token, 'POST', '/posts', { text: '喝盐水能治愈流感 Salt water cures the flu', visibility: 'public' });
    await server.call(ivan.token, 'POST', '/reports', { target_type: 'post', target_id: post.id, rule_id: rules[3].id, comment: 'Dangerous health advice' });
    const it = await queueItem(server, mod, 'post', post.id);
    const reason = 'The post presents a false cure for influenza as fact, which can harm people who follow it.';
    const decided = await server.call(mod.token, 'POST', `/admin/reports/${it.id}/decision`, { action: 'remove', rule_id: rules[3].id, reason });
    const decisionID = decided.decision_id ?? decided.id;
    const { page } = hana;

    // Her post shows as removed to her, with a link to the decision.
    await page.goto(`/posts/${post.id}`);
    const main = page.locator('article.mb-post.detail');
    await main.getByText('Removed by a moderator.').waitFor();
    await shot(page, 'moderation-removed.png');
    await main.getByRole('link', { name: 'See the decision' }).click();
    await page.waitForURL(`**/me/decisions/${decisionID}`);

    // Every point of DSA Art. 17(3).
    const st = page.locator('article.statement');
    await st.getByRole('heading', { name: /Statement of reasons: Removed/ }).waitFor();
    await st.getByRole('heading', { name: 'What was decided' }).waitFor();
    await st.getByText('Your post was removed: nobody but you can see it').waitFor();
    await st.getByText('Duration: until it is reversed').waitFor();
    await st.getByText(reason).waitFor();
    await st.getByText('A report from someone using Plaza led to this decision.').waitFor();
    await st.getByText('No automated means were used').waitFor();
    await st.getByText(`Plaza’s terms, rule ${rules[3].id}:`).waitFor();
    await st.getByText(rules[3].title, { exact: true }).waitFor();
    await st.locator('.snapshot').getByText('喝盐水能治愈流感').waitFor();
    await st.getByText('You can appeal until').waitFor();
    await shot(page, 'moderation-statement.png');

    // The appeal needs a text; then it waits for a second moderator.
    await st.getByRole('button', { name: 'Appeal' }).click();
    await st.getByText('Say why you think the decision is wrong.').waitFor();
    await st.getByLabel('Why the decision is wrong').fill('这是一个玩笑 — it was a joke among friends, and the post said so in the replies.');
    await st.getByRole('button', { name: 'Appeal' }).click();
    await st.getByText('Your appeal is waiting for a decision.').waitFor();
    const d = await server.call(hana.token, 'GET', `/me/decisions/${decisionID}`);
    assert.equal(d.appeal.status, 'open');

    // The list of decisions is reachable from Settings and shows the appeal.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'Decisions about you' }).click();
    await page.getByRole('list', { name: 'Decisions' }).getByText('Appeal waiting for a decision').waitFor();
  });
});

test('the deciding moderator cannot decide the appeal; a second one reverses it and the post is back', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const { items: rules } = await server.call(null, 'GET', '/rules');
    const jin = await account(server, 'jin', 'Jin');
    const kai = await open(await account(server, 'kai', 'Kai'));
    const olga = await open(await moderator(server, 'olga', 'Olga'));
    const pat = await open(await moderator(server, 'pat', 'Pat'));
    const post = await server.call(jin.token, 'POST', '/posts', { text: 'The night market opens at 6 #夜市', visibility: 'public' });
    await server.call(kai.token, 'POST', '/reports', { target_type: 'post', target_id: post.id, rule_id: rules[0].id, comment: 'spam?' });
    const it = await queueItem(server, olga, 'post', post.id);
    const decided = await server.call(olga.token, 'POST', `/admin/reports/${it.id}/decision`, { action: 'remove', rule_id: rules[0].id, reason: 'Looks like advertising.' });
    const decisionID = decided.decision_id ?? decided.id;
    await server.call(jin.token, 'POST', `/me/decisions/${decisionID}/appeal`, { text: 'It is a community notice, not an advert.' });
    assert.equal(await status(server, kai.token, 'GET', `/posts/${post.id}`), 404);

    // Olga decided, so she may not decide the appeal.
    olga.expectFailedRequests = true;
    await olga.page.goto('/console');
    await olga.page.getByRole('tab', { name: 'Appeals' }).click();
    const mine = olga.page.getByRole('list', { name: 'Appeals' }).locator('li.appeal-item').first();
    await mine.getByText('It is a community notice').waitFor();
    await mine.getByLabel('Reason for your decision on the appeal').fill('I stand by it.');
    await mine.getByRole('button', { name: 'Uphold the decision' }).click();
    await mine.getByRole('alert').getByText('You took this decision, so you cannot decide its appeal.').waitFor();
    olga.expectFailedRequests = false;

    // Pat reverses it.
    const { page } = pat;
    await page.goto('/console');
    await page.getByRole('tab', { name: 'Appeals' }).click();
    const appeal = page.getByRole('list', { name: 'Appeals' }).locator('li.appeal-item').first();
    await appeal.getByText('It is a community notice').waitFor();
    await appeal.locator('.snapshot').getByText('The night market opens at 6').waitFor();
    await appeal.getByText('Looks like advertising.').waitFor();
    await appeal.getByText('Olga (@olga)').waitFor();
    // A reason is required.
    await appeal.getByRole('button', { name: 'Reverse the decision' }).click();
    await appeal.getByText('Give the reasons').waitFor();
    await appeal.getByLabel('Reason for your decision on the appeal').fill('A notice about a local market is not spam.');
    await page.setViewportSize({ width: 760, height: 1300 });
    await shot(page, 'moderation-appeals.png');
    await appeal.getByRole('button', { name: 'Reverse the decision' }).click();
    await page.getByText('No appeals are waiting.').waitFor();

    // The post is back for everyone.
    assert.equal(await status(server, kai.token, 'GET', `/posts/${post.id}`), 200);
    await kai.page.goto(`/posts/${post.id}`);
    await card(kai.page, 'The night market opens at 6').waitFor();
    const back = await server.call(jin.token, 'GET', `/posts/${post.id}`);
    assert.ok(!back.removed, 'the author’s copy is no longer marked removed');
    const d = await server.call(jin.token, 'GET', `/me/decisions/${decisionID}`);
    assert.equal(d.status, 'reversed');
    assert.equal(d.appeal.outcome, 'reversed');
    // The reporter sees the outcome reversed.
    const r = await server.call(kai.token, 'GET', '/me/reports');
    assert.equal(r.items[0].outcome.reversed, true);
  });
});

test('a suspended person who signs in lands on the decision and can appeal it', { timeout: 120000 }, async () => {
  await scenario(async (server) => {
    const { items: rules } = await server.call(null, 'GET', '/rules');
    const lou = await account(server, 'lou', 'Lou');
    const mod = await moderator(server, 'olga', 'Olga');
    const d = await server.call(mod.token, 'POST', '/admin/decisions', {
      target_type: 'account', target_id: lou.id, action: 'suspend', rule_id: rules[1].id,
      reason: 'Repeated insults sent to several people after warnings.', duration_days: 7,
    });
    const decisionID = d.decision_id ?? d.id;
    // A signed-out browser: Lou signs in with the form.
    const context = await browser.newContext({ viewport: phone, deviceScaleFactor: 2, baseURL: server.addr });
    try {
      const page = await context.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto('/');
      await page.getByLabel('Handle').fill('lou');
      await page.getByLabel('Password').fill('a long passphrase');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Your account is suspended' }).waitFor();
      const st = page.locator(`article.statement[data-decision-id="${decisionID}"]`);
      await st.getByText('Repeated insults sent to several people after warnings.').waitFor();
      await st.getByText('A moderator found this on their own initiative').waitFor();
      await st.getByText(/Your account is suspended until .* \(7 days\)/).waitFor();
      await shot(page, 'moderation-suspended.png');
      await st.getByLabel('Why the decision is wrong').fill('I was answering insults sent to me first.');
      await st.getByRole('button', { name: 'Appeal' }).click();
      await st.getByText('Your appeal is waiting for a decision.').waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

test('an admin records an authority order and a moderator labels a post on it; the statement cites the law', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const root = await account(server, 'root', 'Root');
    server.grant('root', 'admin');
    const amy = await open(await account(server, 'amy', 'Amy'));
    const post = await server.call(amy.token, 'POST', '/posts', { text: '明天全市停水 Water cut all day tomorrow', visibility: 'public' });
    const admin = await open(root);
    const { page } = admin;
    await page.setViewportSize({ width: 760, height: 1400 });
    await page.goto('/console');
    await page.getByRole('tab', { name: 'Authority orders' }).click();
    const form = page.getByRole('form', { name: 'Record an authority order' });
    // The authority and the legal basis are required.
    await form.getByRole('button', { name: 'Record order' }).click();
    await form.getByText('Name the authority.').waitFor();
    await form.getByLabel('Authority', { exact: true }).fill('市公安局 City Police');
    await form.getByLabel('Legal basis').fill('Public Security Administration Punishments Law, Art. 25');
    await form.getByLabel('Received').fill('2026-12-01T10:00');
    await form.getByLabel('Scope (what it asks for)').fill('Mark one post as disputed');
    await form.getByLabel('Target type').selectOption('post');
    await form.getByLabel('Target ID').fill(post.id);
    await form.getByLabel('Outcome').selectOption('partially_complied');
    await form.getByLabel('Note').fill('Labelled instead of removed.');
    await form.getByRole('button', { name: 'Record order' }).click();
    const recorded = await form.getByText(/^Recorded as order \d+\.$/).innerText();
    const orderID = recorded.match(/order (\d+)/)[1];
    await page.getByRole('list', { name: 'Authority orders' }).getByText('市公安局 City Police').waitFor();

    // Acting on the order, without a report.
    await page.getByRole('tab', { name: 'Reports' }).click();
    const own = page.locator('details.own-initiative');
    await own.getByText('Act without a report').click();
    await own.getByLabel('Target ID').fill(post.id);
    await own.getByLabel('Authority order ID (optional)').fill(orderID);
    await own.getByRole('radio', { name: 'Label' }).check();
    await own.getByLabel('Reason (shown to the person)').fill('The city police ordered the post marked as disputed.');
    await own.getByLabel('Label text (shown with the content to everyone)').fill('Disputed by the city authorities');
    await own.getByRole('button', { name: 'Decide' }).click();
    await own.getByText(/^Decided: Labelled \(decision \d+\)\.$/).waitFor();

    // Amy's post carries the label, and her statement names the order's law.
    const got = await server.call(amy.token, 'GET', `/posts/${post.id}`);
    assert.equal(got.label, 'Disputed by the city authorities');
    await amy.page.goto(`/posts/${post.id}`);
    const main = amy.page.locator('article.mb-post.detail');
    await main.getByText('Disputed by the city authorities').waitFor();
    await main.getByRole('link', { name: 'See the decision' }).click();
    const st = amy.page.locator('article.statement');
    await st.getByText('An order from an authority led to this decision.').waitFor();
    await st.getByText('The law: Public Security Administration Punishments Law, Art. 25.').waitFor();
    await st.getByText('A moderators’ note is shown with your post to everyone: “Disputed by the city authorities”.').waitFor();
  });
});

test('the public transparency page shows the period’s counts as charts, signed out', { timeout: 120000 }, async () => {
  await scenario(async (server) => {
    const { items: rules } = await server.call(null, 'GET', '/rules');
    const admin = await account(server, 'root', 'Root');
    server.grant('root', 'admin');
    const olga = await moderator(server, 'olga', 'Olga');
    const pat = await moderator(server, 'pat', 'Pat');
    const a = await account(server, 'amy', 'Amy');
    const b = await account(server, 'ben', 'Ben');
    const c = await account(server, 'cat', 'Cat');
    // Three reports (two under the first rule, one under the second) on three posts.
    const p1 = await server.call(a.token, 'POST', '/posts', { text: 'Buy followers here', visibility: 'public' });
    const p2 = await server.call(a.token, 'POST', '/posts', { text: 'More cheap followers', visibility: 'public' });
    const p3 = await server.call(c.token, 'POST', '/posts', { text: 'You are all idiots', visibility: 'public' });
    await server.call(b.token, 'POST', '/reports', { target_type: 'post', target_id: p1.id, rule_id: rules[0].id, comment: '' });
    await server.call(b.token, 'POST', '/reports', { target_type: 'post', target_id: p2.id, rule_id: rules[0].id, comment: '' });
    await server.call(b.token, 'POST', '/reports', { target_type: 'post', target_id: p3.id, rule_id: rules[1].id, comment: '' });
    // Decisions: remove p1, dismiss p3; the removal is appealed and reversed.
    const i1 = await queueItem(server, olga, 'post', p1.id);
    const d1 = await server.call(olga.token, 'POST', `/admin/reports/${i1.id}/decision`, { action: 'remove', rule_id: rules[0].id, reason: 'Selling followers.' });
    const i3 = await queueItem(server, olga, 'post', p3.id);
    await server.call(olga.token, 'POST', `/admin/reports/${i3.id}/decision`, { action: 'dismiss', rule_id: rules[1].id, reason: '' });
    const ap = await server.call(a.token, 'POST', `/me/decisions/${d1.decision_id ?? d1.id}/appeal`, { text: 'It was a joke.' });
    await server.call(pat.token, 'POST', `/admin/appeals/${ap.id}/decision`, { uphold: false, reason: 'Not an offer.' });
    // An authority order, recorded and rejected.
    await server.call(admin.token, 'POST', '/admin/authority-orders', {
      authority: '网信办 Cyberspace Administration', legal_basis: 'Art. 12', received_at: new Date().toISOString(),
      scope: 'Remove one post', target_type: 'post', target_id: p2.id, outcome: 'rejected', note: 'No legal ground shown.',
    });

    const context = await browser.newContext({ viewport: phone, deviceScaleFactor: 2, baseURL: server.addr });
    try {
      const page = await context.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(e.message));
      // From the sign-in screen's footer, signed out.
      await page.goto('/');
      await page.getByRole('link', { name: 'Transparency report' }).click();
      await page.getByRole('heading', { name: 'Transparency report' }).waitFor();
      const totals = page.getByRole('definition');
      await totals.first().waitFor();
      const stat = async (label) => page.locator('.stat', { has: page.getByText(label, { exact: true }) }).locator('dd').innerText();
      assert.equal(await stat('Reports'), '3');
      assert.equal(await stat('Decisions'), '2');
      assert.equal(await stat('Appeals'), '1');
      assert.equal(await stat('Decisions reversed on appeal'), '1');
      assert.equal(await stat('Authority orders'), '1');
      assert.notEqual(await stat('Median time to decision'), '—');

      const rows = async (name) => {
        const t = page.getByRole('table', { name, exact: true });
        const out = {};
        for (const r of await t.locator('tbody tr').all()) out[await r.locator('th').innerText()] = Number(await r.locator('td').innerText());
        return out;
      };
      assert.deepEqual(await rows('Reports by rule'), { [`${rules[0].id}. ${rules[0].title}`]: 2, [`${rules[1].id}. ${rules[1].title}`]: 1 });
      assert.deepEqual(await rows('Decisions by action'), { Removed: 1, 'No action (dismissed)': 1 });
      assert.deepEqual(await rows('Appeals'), { Reversed: 1, Upheld: 0, 'Still open': 0 });
      assert.deepEqual(await rows('Decisions by source'), { 'After a report': 2 });
      assert.equal(await stat('Decided by automated means'), '0');
      assert.deepEqual(await rows('Authority orders by authority'), { '网信办 Cyberspace Administration': 1 });
      assert.deepEqual(await rows('Authority orders by outcome'), { Rejected: 1 });
      // The bars are drawn: two for reports by rule.
      assert.equal(await page.locator('figure', { hasText: 'Reports by rule' }).locator('svg rect').count(), 2);

      // The CSV link carries the period.
      const href = await page.getByRole('link', { name: 'Download as CSV' }).getAttribute('href');
      assert.match(href, /^\/api\/v1\/transparency\?from=\d{4}-\d{2}-\d{2}&to=\d{4}-\d{2}-\d{2}&format=csv$/);
      const csv = await (await fetch(server.addr + href)).text();
      assert.ok(csv.length > 0 && !csv.trimStart().startsWith('{'), `want CSV, got ${csv.slice(0, 80)}`);
      // A public page, often read on a wide screen: the whole report in one picture.
      await page.setViewportSize({ width: 760, height: 1450 });
      await shot(page, 'transparency.png');

      // A period with nothing in it.
      await page.getByRole('button', { name: String(new Date().getUTCFullYear() - 1) }).click();
      await poll('an empty year', async () => (await stat('Reports').catch(() => '')) === '0');
      assert.match(page.url(), /from=\d{4}-01-01&to=\d{4}-12-31/);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
