// Browser tests of the microblog pages against the real binary in real
// Chromium. Each test starts its own server in a temp dir and makes its own
// accounts through the API (phones verified from the SMS outbox), then
// works through the web client at phone size: the composer's counter and a
// post with a photo; a followed account's post arriving live, and paging
// without duplicates; like, repost and reply counts; the follow button on a
// profile; hashtag pages, trending and Chinese search; the notifications
// badge. Screens are saved to docs/screenshots/.
//
// Run from the repository root: node --test web/e2e/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { account, launchBrowser, person, png, poll, shot, startServer } from './harness.mjs';

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

const card = (page, text) => page.locator('article.mb-post', { hasText: text });

test('the composer counts code points, refuses past 2,000, and posts text with a photo', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const alice = await open(await account(server, 'alice', 'Alice'));
    await account(server, 'bob', 'Bob');
    const { page } = alice;
    await page.goto('/timeline');
    const box = page.getByLabel('Post text');
    await box.waitFor();
    const counter = page.locator('#compose-count');

    // 😀 is two UTF-16 units and 汉 one: each counts one.
    await box.fill('汉😀');
    await counter.getByText('2 / 2,000').waitFor();
    await box.fill('😀'.repeat(2000));
    await counter.getByText('2,000 / 2,000').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Post', exact: true }).isEnabled(), true);
    await box.fill('😀'.repeat(2000) + '汉');
    await counter.getByText('2,001 / 2,000').waitFor();
    await page.getByText('1 character over the limit').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Post', exact: true }).isDisabled(), true);
    assert.equal(await box.getAttribute('aria-invalid'), 'true');

    // The server's refusal shows beside the field it names, and nothing is posted.
    alice.expectFailedRequests = true;
    await box.fill('Look: \u202Egnp.exe');
    await page.getByRole('button', { name: 'Post', exact: true }).click();
    await page.locator('#compose-text-error', { hasText: 'bidi' }).waitFor();
    assert.equal(await box.getAttribute('aria-invalid'), 'true');
    assert.match(await box.getAttribute('aria-describedby'), /compose-text-error/);
    alice.expectFailedRequests = false;
    assert.equal((await server.call(alice.token, 'GET', `/accounts/${alice.id}/posts`)).items.length, 0);

    // A post with a photo, a Weibo-style hashtag and a mention.
    await box.fill('傍晚的广场 #日落# with @bob');
    await page.locator('#compose-photos').setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: png(480, 320) });
    await page.getByRole('list', { name: 'Photos to post' }).getByRole('img', { name: 'Photo 1: sunset.png' }).waitFor();
    await page.getByRole('progressbar', { name: 'Uploading photo 1' }).waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Post', exact: true }).click();
    await page.getByText('Posted.').waitFor();
    assert.equal(await box.inputValue(), '');

    const post = card(page, '傍晚的广场');
    await post.getByRole('link', { name: '#日落#' }).waitFor();
    await post.getByRole('link', { name: '@bob' }).waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector('article.mb-post .mb-media img.photo');
      return img && img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:');
    });
    // Stored on the server: it is still there after a reload.
    await page.reload();
    await card(page, '傍晚的广场').locator('.mb-media img.photo').waitFor();
    await shot(page, 'timeline.png');
  });
});

test('a followed account’s post appears live at the top, and pages load on scroll without duplicates', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const carol = await account(server, 'carol', 'Carol');
    const dan = await open(await account(server, 'dan', 'Dan'));
    await server.call(dan.token, 'POST', `/accounts/${carol.id}/follow`);
    // 25 posts: more than one page.
    for (let i = 1; i <= 25; i++) await server.call(carol.token, 'POST', '/posts', { text: `Carol’s note ${i}`, visibility: 'public' });
    const { page } = dan;
    await page.goto('/timeline');
    await card(page, 'Carol’s note 25').waitFor();
    await poll('timeline fanned out', async () => (await page.locator('article.mb-post').count()) > 0);

    // Scrolling to the end loads the rest; each post shows once.
    await card(page, 'Carol’s note 1').scrollIntoViewIfNeeded().catch(() => {});
    await poll('all 25 posts', async () => {
      await page.locator('.mb-more').scrollIntoViewIfNeeded();
      return (await page.locator('article.mb-post').count()) >= 25;
    });
    await page.getByText('You are all caught up.').waitFor();
    const texts = await page.locator('article.mb-post .mb-text').allInnerTexts();
    assert.equal(texts.length, 25);
    assert.equal(new Set(texts).size, 25);

    // Scrolled down, a new post waits behind a bar.
    await server.call(carol.token, 'POST', '/posts', { text: 'While you were reading', visibility: 'public' });
    await page.getByRole('button', { name: '1 new post' }).click();
    await card(page, 'While you were reading').waitFor();
    assert.equal(await page.locator('article.mb-post').first().locator('.mb-text').innerText(), 'While you were reading');

    // At the top, it appears at once.
    await server.call(carol.token, 'POST', '/posts', { text: '今天的第二条', visibility: 'followers' });
    await card(page, '今天的第二条').waitFor();
    assert.equal(await page.locator('article.mb-post').first().locator('.mb-text').innerText(), '今天的第二条');
    assert.equal(await card(page, 'While you were reading').count(), 1);
  });
});

test('likes, reposts and replies count, and a refused like rolls back', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const erin = await account(server, 'erin', 'Erin');
    const frank = await open(await account(server, 'frank', 'Frank'));
    const post = await server.call(erin.token, 'POST', '/posts', { text: 'Who is coming to the #plaza market on Saturday?', visibility: 'public' });
    const { page } = frank;
    await page.goto(`/posts/${post.id}`);
    const main = page.locator('article.mb-post.detail');
    await main.getByText('Who is coming').waitFor();

    // Like, and the count holds after a reload; unlike.
    await main.getByRole('button', { name: 'Like (0 likes)' }).click();
    await main.getByRole('button', { name: 'Like (1 like)', pressed: true }).waitFor();
    await page.reload();
    await main.getByRole('button', { name: 'Like (1 like)', pressed: true }).click();
    await main.getByRole('button', { name: 'Like (0 likes)', pressed: false }).waitFor();

    // A plain repost, then one with a comment.
    await main.getByRole('button', { name: 'Repost (0 reposts)' }).click();
    await main.getByRole('button', { name: 'Repost', exact: true }).click();
    await main.getByRole('form', { name: 'Repost' }).waitFor({ state: 'detached' });
    await main.getByRole('button', { name: 'Repost (1 repost)' }).click();
    await main.getByLabel('Comment (optional)').fill('我也去！');
    await main.getByRole('button', { name: 'Repost with comment' }).click();
    await main.getByRole('form', { name: 'Repost' }).waitFor({ state: 'detached' });
    await main.getByRole('button', { name: 'Repost (2 reposts)' }).waitFor();

    // Two replies, shown oldest first, and counted.
    const reply = page.getByLabel('Reply text');
    await reply.fill('Me! I will bring bread.');
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    await page.getByRole('region', { name: 'Replies' }).getByText('Me! I will bring bread.').waitFor();
    await reply.fill('And flowers 🌷');
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    await main.getByRole('button', { name: 'Reply (2 replies)' }).waitFor();
    const replies = page.getByRole('region', { name: 'Replies' }).locator('article.mb-post .mb-text');
    await poll('two replies', async () => (await replies.count()) === 2);
    assert.deepEqual(await replies.allInnerTexts(), ['Me! I will bring bread.', 'And flowers 🌷']);
    await page.reload();
    await main.getByRole('button', { name: 'Reply (2 replies)' }).waitFor();
    await main.getByRole('button', { name: 'Repost (2 reposts)' }).waitFor();
    assert.deepEqual(await replies.allInnerTexts(), ['Me! I will bring bread.', 'And flowers 🌷']);
    await shot(page, 'post.png');

    // Frank deletes his own second reply.
    const second = page.getByRole('region', { name: 'Replies' }).locator('article.mb-post', { hasText: 'And flowers' });
    await second.getByRole('button', { name: 'Delete this post' }).click();
    await second.getByRole('button', { name: 'Delete', exact: true }).click();
    await second.waitFor({ state: 'detached' });
    await main.getByRole('button', { name: 'Reply (1 reply)' }).waitFor();

    // The repost with a comment shows in Frank's timeline, quoting the original.
    await page.getByRole('navigation', { name: 'Posts' }).getByRole('link', { name: 'Home' }).click();
    await card(page, '我也去！').locator('.mb-quote', { hasText: 'Who is coming' }).waitFor();

    // Erin deletes her post while Frank still sees it: his like is refused,
    // and the button and count go back.
    await page.goBack();
    await main.getByText('Who is coming').waitFor();
    await server.call(erin.token, 'DELETE', `/posts/${post.id}`);
    frank.expectFailedRequests = true;
    await main.getByRole('button', { name: 'Like (0 likes)' }).click();
    await main.getByRole('alert').getByText('That does not exist, or you cannot see it.').waitFor();
    await main.getByRole('button', { name: 'Like (0 likes)', pressed: false }).waitFor();
    frank.expectFailedRequests = false;
  });
});

test('a profile shows counts and a follow button that follows and unfollows', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const gina = await account(server, 'gina', '吉娜 Gina');
    const hugo = await open(await account(server, 'hugo', 'Hugo'));
    const first = await server.call(gina.token, 'POST', '/posts', { text: '第一次发微博，请多关照。', visibility: 'public' });
    await server.call(gina.token, 'POST', '/posts', { text: 'Only for followers', visibility: 'followers' });
    const { page } = hugo;

    // From a post, the author's name leads to the profile.
    await page.goto(`/posts/${first.id}`);
    await card(page, '第一次发微博').getByRole('link', { name: /吉娜 Gina/ }).click();
    await page.getByRole('heading', { name: '吉娜 Gina' }).waitFor();
    await page.getByText('@gina').first().waitFor();
    await page.getByRole('link', { name: '0 followers' }).waitFor();
    await card(page, '第一次发微博').waitFor();
    assert.equal(await card(page, 'Only for followers').count(), 0);

    await page.getByRole('button', { name: 'Follow' }).click();
    await page.getByRole('button', { name: 'Following', pressed: true }).waitFor();
    await page.getByRole('link', { name: '1 follower' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Following', pressed: true }).waitFor();
    await page.getByRole('link', { name: '1 follower' }).waitFor();
    // Following makes the followers-only post visible.
    await card(page, 'Only for followers').waitFor();
    await shot(page, 'profile.png');

    await page.getByRole('link', { name: '1 follower' }).click();
    await page.getByRole('list', { name: 'Followers' }).getByText('Hugo', { exact: true }).waitFor();
    await page.goBack();
    await page.getByRole('button', { name: 'Following', pressed: true }).click();
    await page.getByRole('button', { name: 'Follow', pressed: false }).waitFor();
    await page.getByRole('link', { name: '0 followers' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Follow', pressed: false }).waitFor();
  });
});

test('hashtags link to their page and trending ranks them by people', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const ivy = await open(await account(server, 'ivy', 'Ivy'));
    const jack = await account(server, 'jack', 'Jack');
    const kim = await account(server, 'kim', 'Kim');
    await server.call(jack.token, 'POST', '/posts', { text: '今天天气很好 #好天气#', visibility: 'public' });
    await server.call(kim.token, 'POST', '/posts', { text: '#好天气# 去公园散步', visibility: 'public' });
    await server.call(kim.token, 'POST', '/posts', { text: 'Lunch at the #plaza market', visibility: 'public' });
    const { page } = ivy;
    await page.goto('/timeline');
    await page.getByLabel('Post text').fill('阳光明媚 #好天气# and #plaza');
    await page.getByRole('button', { name: 'Post', exact: true }).click();
    const mine = card(page, '阳光明媚');
    await mine.getByRole('link', { name: '#好天气#' }).click();

    await page.getByRole('heading', { name: '#好天气#' }).waitFor();
    const tagged = page.getByRole('region', { name: 'Posts with #好天气#' });
    for (const t of ['今天天气很好', '去公园散步', '阳光明媚']) await tagged.locator('article.mb-post', { hasText: t }).waitFor();
    assert.equal(await tagged.locator('article.mb-post', { hasText: 'Lunch at the' }).count(), 0);

    // Trending: three people used 好天气, two used plaza.
    await page.getByRole('link', { name: 'Trending' }).click();
    const trends = page.getByRole('list', { name: 'Trending hashtags' });
    await trends.getByRole('link', { name: '#好天气#' }).waitFor();
    const rows = await trends.locator('li').allInnerTexts();
    assert.match(rows[0], /好天气[\s\S]*3 people · 3 posts/);
    assert.match(rows[1], /plaza[\s\S]*2 people · 2 posts/);
    await page.getByRole('tab', { name: 'Last hour' }).click();
    await trends.getByRole('link', { name: '#好天气#' }).waitFor();
    await shot(page, 'trending.png');

  });
});

test('search finds 天气 in 今天天气很好, and English words', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const nina = await open(await account(server, 'nina', 'Nina'));
    const omar = await account(server, 'omar', 'Omar');
    await server.call(omar.token, 'POST', '/posts', { text: '今天天气很好', visibility: 'public' });
    await server.call(omar.token, 'POST', '/posts', { text: 'Lunch at the plaza market', visibility: 'public' });
    await server.call(omar.token, 'POST', '/posts', { text: '天气预报说明天下雨', visibility: 'followers' });
    const { page } = nina;
    await page.goto('/search');
    // A Chinese word inside a sentence without spaces; a followers-only post stays out.
    await page.getByLabel('Search posts').fill('天气');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const results = page.getByRole('region', { name: 'Search results' });
    const hit = results.locator('article.mb-post', { hasText: '今天天气很好' });
    await hit.waitFor();
    assert.equal(await hit.locator('mark').first().innerText(), '天气');
    assert.equal(await results.locator('article.mb-post', { hasText: 'Lunch at the' }).count(), 0);
    assert.equal(await results.locator('article.mb-post', { hasText: '明天下雨' }).count(), 0);
    await page.getByLabel('Search posts').fill('market');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await results.locator('article.mb-post', { hasText: 'Lunch at the' }).waitFor();
    await poll('only the English post', async () => (await results.locator('article.mb-post').count()) === 1);
  });
});

test('the notifications badge counts new notifications live and clears when they are read', { timeout: 120000 }, async () => {
  await scenario(async (server, open) => {
    const lena = await open(await account(server, 'lena', 'Lena'));
    const marc = await account(server, 'marc', 'Marc');
    const post = await server.call(lena.token, 'POST', '/posts', { text: 'Morning at the plaza', visibility: 'public' });
    const { page } = lena;
    await page.goto('/timeline');
    await card(page, 'Morning at the plaza').waitFor();
    const bell = page.getByRole('link', { name: /^Notifications/ });
    assert.equal(await bell.getAttribute('aria-label'), 'Notifications');

    await server.call(marc.token, 'POST', `/accounts/${lena.id}/follow`);
    await page.getByRole('link', { name: 'Notifications, 1 unread' }).waitFor();
    await server.call(marc.token, 'POST', `/posts/${post.id}/like`);
    await server.call(marc.token, 'POST', '/posts', { text: 'See you there @lena', visibility: 'public' });
    await page.getByRole('link', { name: 'Notifications, 3 unread' }).waitFor();
    assert.equal(await bell.locator('.badge').innerText(), '3');

    await bell.click();
    const list = page.getByRole('list', { name: 'Notifications' });
    await list.getByText('Marc followed you').waitFor();
    await list.getByText('Marc liked your post').waitFor();
    await list.getByText('Marc mentioned you').waitFor();
    await page.getByRole('button', { name: 'Mark all as read' }).click();
    await page.getByRole('link', { name: 'Notifications', exact: true }).waitFor();
    assert.equal(await bell.locator('.badge').count(), 0);
    await page.reload();
    await list.getByText('Marc followed you').waitFor();
    assert.equal(await bell.getAttribute('aria-label'), 'Notifications');

    // A reply arriving while the list is open joins it and the badge.
    await server.call(marc.token, 'POST', '/posts', { text: 'Coffee first?', reply_to: post.id, visibility: 'public' });
    await list.getByText('Marc replied to your post').waitFor();
    await page.getByRole('link', { name: 'Notifications, 1 unread' }).waitFor();
    // It opens the reply, which leads to the post it answers.
    await list.getByText('Marc replied to your post').click();
    await page.locator('article.mb-post.detail').getByText('Coffee first?').waitFor();
    await page.getByRole('link', { name: '↑ Show the post this replies to' }).click();
    await page.locator('article.mb-post.detail').getByText('Morning at the plaza').waitFor();
    await page.getByRole('region', { name: 'Replies' }).getByText('Coffee first?').waitFor();
  });
});
