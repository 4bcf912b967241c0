// What the app keeps to stay readable offline: the answers to a few GET
// calls (the account, the chat list, the latest page of each recent
// conversation, contacts and profiles), saved as they arrive and served
// when the server cannot be reached. They belong to the signed-in account:
// a new token (another sign-in, a sign-out) wipes them, so the next person
// on a shared browser never sees them.
const KEY = 'plaza.offline';
const MAX_ENTRIES = 80;
const MAX_CHARS = 2_000_000;

const kept = [
  /^\/me$/,
  /^\/conversations$/,
  /^\/conversations\/\d+$/,
  // The latest page only: paging back needs the network anyway.
  /^\/conversations\/\d+\/messages\?limit=\d+$/,
  /^\/contacts$/,
  /^\/accounts\/\d+$/,
];

interface Entry {
  at: number; // when it was saved, for the "saved at" notice and eviction
  data: unknown;
}

type Store = Record<string, Entry>;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function load(): Store {
  try {
    return JSON.parse(storage()?.getItem(KEY) ?? '{}') as Store;
  } catch {
    return {};
  }
}

/** keeps reports whether the answer to GET path is saved for offline reading. */
export function keeps(path: string): boolean {
  return kept.some((re) => re.test(path));
}

/** save keeps the answer to GET path, evicting the oldest past the bounds. */
export function save(path: string, data: unknown): void {
  if (!keeps(path)) return;
  const s = storage();
  if (!s) return;
  const store = load();
  store[path] = { at: Date.now(), data };
  const paths = Object.keys(store).sort((a, b) => store[b].at - store[a].at);
  for (const p of paths.slice(MAX_ENTRIES)) delete store[p];
  let text = JSON.stringify(store);
  while (text.length > MAX_CHARS && Object.keys(store).length > 1) {
    const oldest = Object.keys(store).sort((a, b) => store[a].at - store[b].at)[0];
    delete store[oldest];
    text = JSON.stringify(store);
  }
  try {
    s.setItem(KEY, text);
  } catch {
    // Storage full: drop the copy rather than fail the call it came from.
    s.removeItem(KEY);
  }
}

/** saved returns the kept answer to GET path, or undefined. */
export function saved(path: string): { data: unknown; at: Date } | undefined {
  const e = load()[path];
  return e ? { data: e.data, at: new Date(e.at) } : undefined;
}

/** forget wipes everything kept: called whenever the session token changes. */
export function forget(): void {
  storage()?.removeItem(KEY);
}

// Whether the last answer came from the saved copy, for the app's notice.
let offlineSince: Date | null = null;
const listeners = new Set<(since: Date | null) => void>();

export function servedOffline(since: Date | null): void {
  if ((since === null) === (offlineSince === null)) return;
  offlineSince = since;
  for (const f of listeners) f(since);
}

/** onOffline calls f with the time of the saved copy in use, or null once the server answers again. */
export function onOffline(f: (since: Date | null) => void): () => void {
  listeners.add(f);
  f(offlineSince);
  return () => listeners.delete(f);
}

/** registerServiceWorker installs sw.js, which keeps the app shell for offline starts and shows push notices. */
export function registerServiceWorker(open: (url: string) => void): void {
  if (!('serviceWorker' in navigator)) return;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch(() => {
      // No worker (private mode, an old browser): the app works online as before.
    });
  });
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
    const d = e.data as { type?: string; url?: string } | null;
    if (d?.type === 'open' && typeof d.url === 'string' && d.url.startsWith('/')) open(d.url);
  });
}
