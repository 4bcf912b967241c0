// Plaza's service worker: the app shell offline, and Web Push notices.
//
// The shell (index.html and the hashed assets it names) is kept so that the
// app opens without a network; the app itself keeps the latest
// conversations readable (src/offline.ts). API responses never pass
// through this cache: they belong to one signed-in account, and this cache
// is the browser's, shared by whoever uses it next.
const SHELL = 'plaza-shell-v1';

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      const res = await fetch('/', { cache: 'no-cache' });
      if (res.ok) {
        const html = await res.clone().text();
        await cache.put('/', res);
        await cache.addAll(await shellAssets(html, cache));
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== SHELL) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

/** assetsOf lists the hashed files an index.html loads. */
function assetsOf(html) {
  return [...new Set([...html.matchAll(/["'](\/assets\/[^"'?#]+)["']/g)].map((m) => m[1]))];
}

/**
 * shellAssets lists what the app may load: the files index.html names and
 * the chunks its scripts import later (each language's catalogue, the
 * console), so that the app starts offline in any language.
 */
async function shellAssets(html, cache) {
  const all = new Set(assetsOf(html));
  for (const a of [...all].filter((x) => x.endsWith('.js'))) {
    const res = (await cache.match(a)) || (await fetch(a).catch(() => null));
    if (!res || !res.ok) continue;
    for (const m of (await res.text()).matchAll(/["'`](?:\.\/|\/?assets\/)([\w.-]+\.(?:js|css))["'`]/g)) all.add(`/assets/${m[1]}`);
  }
  return [...all];
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (req.mode === 'navigate') {
    event.respondWith(page(req));
  } else if (url.pathname.startsWith('/assets/')) {
    event.respondWith(asset(req));
  } else if (url.pathname.startsWith('/icons/') || url.pathname === '/manifest.webmanifest') {
    event.respondWith(fetch(req).catch(() => caches.match(req).then((r) => r || Response.error())));
  }
});

/**
 * page answers a navigation from the network, keeping the newest shell and
 * dropping assets it no longer names; offline, every route gets the kept
 * shell (the app routes on the client).
 */
async function page(req) {
  const cache = await caches.open(SHELL);
  try {
    const res = await fetch(req);
    if (res.ok && (res.headers.get('Content-Type') || '').startsWith('text/html')) {
      const html = await res.clone().text();
      await cache.put('/', res.clone());
      const keep = new Set(await shellAssets(html, cache));
      for (const r of await cache.keys()) {
        const p = new URL(r.url).pathname;
        if (p.startsWith('/assets/') && !keep.has(p)) await cache.delete(r);
      }
    }
    return res;
  } catch (err) {
    const shell = await cache.match('/');
    if (shell) return shell;
    throw err;
  }
}

/** asset answers a hashed file from the cache: its name changes with its content. */
async function asset(req) {
  const cache = await caches.open(SHELL);
  const hit = await cache.match(req);
  if (hit) return hit;
  const res = await fetch(req);
  if (res.ok) await cache.put(req, res.clone());
  return res;
}

// A push carries {type, title, body, url, conversation_id}; notices of one
// conversation replace each other (tag), so a busy chat is one notice.
self.addEventListener('push', (event) => {
  let p = {};
  try {
    p = event.data ? event.data.json() : {};
  } catch {
    p = { body: event.data ? event.data.text() : '' };
  }
  event.waitUntil(
    (async () => {
      // A window of the app in front already shows it live.
      const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      if (wins.some((w) => w.focused && w.visibilityState === 'visible')) return;
      await self.registration.showNotification(p.title || 'Plaza', {
        body: p.body || '',
        tag: p.conversation_id ? `conversation-${p.conversation_id}` : p.type || 'plaza',
        renotify: Boolean(p.conversation_id),
        icon: '/icons/icon-192.png',
        badge: '/icons/icon-192.png',
        data: { url: typeof p.url === 'string' && p.url.startsWith('/') ? p.url : '/' },
      });
    })(),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data?.url || '/';
  event.waitUntil(
    (async () => {
      const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      for (const w of wins) {
        if (new URL(w.url).origin === self.location.origin) {
          await w.focus();
          w.postMessage({ type: 'open', url });
          return;
        }
      }
      await self.clients.openWindow(url);
    })(),
  );
});
