// Web Push on this device: the server sends a notice for messages,
// mentions, replies and decisions while none of the account's devices is
// connected (docs/api.md, "Push"). Turning it on asks the browser's
// permission, subscribes with the server's VAPID key and registers the
// subscription; it is bound to this session and ends with it.
import { api } from './api';

export type PushState = 'unsupported' | 'denied' | 'off' | 'on';

const SUB_KEY = 'plaza.push.subscription';

function supported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/** pushState says whether this device gets notices, may be asked, or cannot. */
export async function pushState(): Promise<PushState> {
  if (!supported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  const reg = await navigator.serviceWorker.getRegistration();
  const sub = await reg?.pushManager.getSubscription();
  return sub && localStorage.getItem(SUB_KEY) ? 'on' : 'off';
}

/** enablePush asks for permission and registers this device's subscription with the server. */
export async function enablePush(): Promise<PushState> {
  if (!supported()) return 'unsupported';
  if ((await Notification.requestPermission()) !== 'granted') return 'denied';
  const reg = await navigator.serviceWorker.ready;
  const { public_key } = await api<{ public_key: string }>('GET', '/push/vapid-key');
  let sub = await reg.pushManager.getSubscription();
  if (sub && !sameKey(sub.options.applicationServerKey, public_key)) {
    await sub.unsubscribe();
    sub = null;
  }
  sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64url(public_key) });
  const json = sub.toJSON();
  const saved = await api<{ id: string }>('POST', '/me/push-subscriptions', {
    endpoint: json.endpoint,
    keys: { p256dh: json.keys?.p256dh, auth: json.keys?.auth },
  });
  localStorage.setItem(SUB_KEY, saved.id);
  return 'on';
}

/** disablePush removes this device's subscription here and on the server. */
export async function disablePush(): Promise<PushState> {
  const id = localStorage.getItem(SUB_KEY);
  localStorage.removeItem(SUB_KEY);
  if (id) await api('DELETE', `/me/push-subscriptions/${id}`).catch(() => {});
  const reg = await navigator.serviceWorker?.getRegistration();
  await (await reg?.pushManager.getSubscription())?.unsubscribe();
  return supported() ? 'off' : 'unsupported';
}

/** muteConversation turns push notices for one conversation off or on (mentions still come through). */
export function muteConversation(id: string, muted: boolean): Promise<{ muted: boolean }> {
  return api('PUT', `/conversations/${id}/mute`, { muted });
}

function fromBase64url(s: string): Uint8Array<ArrayBuffer> {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(new ArrayBuffer(b.length));
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
  return out;
}

function sameKey(have: ArrayBuffer | null, want: string): boolean {
  if (!have) return false;
  const a = new Uint8Array(have);
  const b = fromBase64url(want);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
