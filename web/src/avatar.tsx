// Profile photos. avatar_url needs the session token like any API call,
// and an <img> cannot send it, so the photo is fetched once per URL (the
// URL changes with every new photo) and shown from a blob: URL. Without a
// photo, or until it arrives, the first letter of the name stands in.
import { useEffect, useState } from 'preact/hooks';
import { getToken } from './api';
import './people.css';

const photos = new Map<string, Promise<string>>();

/** avatarSrc fetches a profile photo with the session token and returns a blob: URL, once per URL. */
export function avatarSrc(url: string): Promise<string> {
  let p = photos.get(url);
  if (!p) {
    p = (async () => {
      const token = getToken();
      const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
      if (!res.ok) throw new Error(`avatar: ${res.status}`);
      return URL.createObjectURL(await res.blob());
    })();
    p.catch(() => photos.delete(url));
    photos.set(url, p);
  }
  return p;
}

interface Props {
  name: string;
  url?: string | null;
  size?: 'small' | 'normal' | 'big';
}

/** Avatar shows a profile photo, or the name's first letter; it is decoration, so screen readers skip it. */
export function Avatar({ name, url, size = 'normal' }: Props) {
  const [src, setSrc] = useState<string | null>(null);
  // The small size has a 64-pixel photo of its own; bigger ones use the 256-pixel one.
  const want = url && size === 'small' ? `${url}${url.includes('?') ? '&' : '?'}size=64` : url;
  useEffect(() => {
    setSrc(null);
    if (!want) return;
    let live = true;
    avatarSrc(want).then(
      (s) => live && setSrc(s),
      () => {}, // no photo after all (removed, or blocked): the letter stays
    );
    return () => {
      live = false;
    };
  }, [want]);
  return (
    <span class={size === 'normal' ? 'avatar' : `avatar ${size}`} aria-hidden="true">
      {src ? <img src={src} alt="" /> : [...name][0]?.toUpperCase()}
    </span>
  );
}
