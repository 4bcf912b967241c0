// Shared set-up for the layout, theme and screenshot tests: a few people
// with a direct chat and a group holding some history, made through the
// API on a server started with --direct-messages anyone, and browser
// contexts of any size, colour scheme and language that start signed in.
import { account, startServer } from './harness.mjs';
import { randomUUID } from 'node:crypto';

export const desktop = { width: 1440, height: 900 };

/** say sends a text message through the API. */
export function say(server, who, convID, text) {
  return server.call(who.token, 'POST', `/conversations/${convID}/messages`, { client_id: randomUUID(), kind: 'text', text });
}

/**
 * world starts a server with Alice, Bob, Carol and Dan: Alice's direct
 * chats with Bob and with Carol, and her group "Weekend hike" with Bob and
 * Carol. Bob's last message to Alice is unread.
 */
export async function world() {
  const server = await startServer(['--direct-messages', 'anyone']);
  const alice = await account(server, 'alice', 'Alice Wang');
  const bob = await account(server, 'bob', 'Bob Li');
  const carol = await account(server, 'carol', 'Carol Zhang');
  const dan = await account(server, 'dan', 'Dan Chen');
  const withCarol = await server.call(alice.token, 'POST', '/conversations', { kind: 'direct', member_ids: [carol.id] });
  await say(server, carol, withCarol.id, 'The photos from Saturday are great!');
  await say(server, alice, withCarol.id, 'Thanks! I will send the rest tonight.');
  const group = await server.call(alice.token, 'POST', '/conversations', { kind: 'group', title: 'Weekend hike', member_ids: [bob.id, carol.id] });
  await say(server, alice, group.id, 'Shall we meet at the station at 8?');
  await say(server, carol, group.id, 'Works for me. I will bring tea.');
  await say(server, bob, group.id, 'See you there 🙂');
  const withBob = await server.call(alice.token, 'POST', '/conversations', { kind: 'direct', member_ids: [bob.id] });
  await say(server, alice, withBob.id, 'Did you get the tickets?');
  await say(server, bob, withBob.id, 'Yes, two for Friday evening.');
  await say(server, bob, withBob.id, 'Row 7, seats 12 and 13.');
  return { server, alice, bob, carol, dan, withBob, withCarol, group };
}

/**
 * open makes a browser context signed in as acct (viewport, colorScheme,
 * locale and theme — "light" or "dark" kept as the settings would — are
 * optional) and returns {context, page, problems}: console errors and page
 * errors end up in problems.
 */
export async function open(browser, server, acct, { viewport = desktop, colorScheme = 'light', locale = 'en-US', theme } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, baseURL: server.addr, colorScheme, locale });
  await context.addInitScript(
    ([token, theme]) => {
      localStorage.setItem('plaza.token', token);
      if (theme) localStorage.setItem('plaza.theme', theme);
    },
    [acct.token, theme ?? ''],
  );
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { context, page, problems };
}
