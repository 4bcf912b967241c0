// Web Push while offline: with no device of the account connected, a new
// message reaches the account's push subscription, encrypted per RFC 8291
// under the server's VAPID key; the local endpoint (pushendpoint.mjs)
// decrypts it, and the app's service worker, handed that push, shows a
// notice that opens the conversation. Headless Chromium has no push
// service of its own, so the endpoint stands in for one and the push is
// handed to the worker over the DevTools protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { account, launchBrowser, person, poll, startServer } from './harness.mjs';
import { pushEndpoint } from './pushendpoint.mjs';

test('a message sent while no device is connected arrives as a push and shows a notice', { timeout: 120000 }, async (t) => {
  const server = await startServer(['--direct-messages', 'anyone', '--push-allow-loopback']);
  const browser = await launchBrowser();
  const ep = await pushEndpoint();
  t.after(async () => {
    await browser.close();
    await ep.close();
    await server.stop();
  });
  const a = await account(server, 'away', 'Ada Away');
  const b = await account(server, 'sender', 'Sam Sender');
  const conv = await server.call(a.token, 'POST', '/conversations', { kind: 'direct', member_ids: [b.id] });
  const sub = await server.call(a.token, 'POST', '/me/push-subscriptions', ep.subscription());
  assert.ok(sub.id);

  // The app installs its worker, then the person closes it: no device is connected.
  const p = await person(browser, server, a);
  await p.context.grantPermissions(['notifications'], { origin: server.addr });
  await p.page.goto('/');
  await p.page.evaluate(() => navigator.serviceWorker.ready);
  await p.page.close();

  const blank = await p.context.newPage(); // for the DevTools session only; not the app
  const cdp = await p.context.newCDPSession(blank);
  const registrations = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
  await cdp.send('ServiceWorker.enable');

  await poll('the server to see no device connected, and push', async () => {
    await server.call(b.token, 'POST', `/conversations/${conv.id}/messages`, { client_id: `m${Date.now()}`, kind: 'text', text: '在吗？are you there' });
    return ep.received().length > 0;
  }, 20000);
  const push = await ep.next(0);
  assert.equal(push.payload.type, 'message.created');
  assert.equal(push.payload.conversation_id, conv.id);
  assert.equal(push.payload.title, 'Sam Sender');
  assert.equal(push.payload.body, '在吗？are you there');
  assert.equal(push.payload.url, `/chats/${conv.id}`);
  assert.equal(push.headers.topic, `c${conv.id}`);
  const key = await server.call(a.token, 'GET', '/push/vapid-key');
  assert.equal(push.vapid.key, key.public_key, 'signed with the key the server publishes');

  // The newest state of the app's registration.
  const reg = await poll('the worker registration', () => registrations.findLast((r) => r.scopeURL === `${server.addr}/`));
  assert.ok(!reg.isDeleted, 'the app\'s worker registration is live');
  const deliver = () => cdp.send('ServiceWorker.deliverPushMessage', { origin: server.addr, registrationId: reg.registrationId, data: JSON.stringify(push.payload) });
  await deliver();
  // A push handed to a worker that Chromium is still stopping (the app's
  // page just closed) can be dropped; a push service would deliver it
  // again, so the stand-in does too. The tag keeps it one notice.
  let handed = Date.now();
  const shown = await poll('the notice', async () => {
    const worker = p.context.serviceWorkers().at(-1);
    const n = worker ? await worker.evaluate(async () => (await self.registration.getNotifications()).map((x) => ({ title: x.title, body: x.body, tag: x.tag, url: x.data?.url }))).catch(() => []) : [];
    if (n.length === 0 && Date.now() - handed > 3000) {
      handed = Date.now();
      await deliver();
    }
    return n.length > 0 && n;
  }, 30000);
  assert.deepEqual(shown, [{ title: 'Sam Sender', body: '在吗？are you there', tag: `conversation-${conv.id}`, url: `/chats/${conv.id}` }]);
});

test('signing out removes the device\'s push subscription', { timeout: 60000 }, async (t) => {
  const server = await startServer(['--push-allow-loopback']);
  const ep = await pushEndpoint();
  t.after(async () => {
    await ep.close();
    await server.stop();
  });
  const a = await account(server, 'leaver', 'Lee Leaver');
  await server.call(a.token, 'POST', '/me/push-subscriptions', ep.subscription());
  const other = await server.call(null, 'POST', '/sessions', { handle: 'leaver', password: 'a long passphrase' });
  assert.equal((await server.call(other.token, 'GET', '/me/push-subscriptions')).items.length, 1);
  await server.call(a.token, 'DELETE', '/sessions/current');
  assert.equal((await server.call(other.token, 'GET', '/me/push-subscriptions')).items.length, 0);
});
