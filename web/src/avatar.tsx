// Avatars: a person's photo when the profile has one (avatar_url),
// otherwise their initials in a circle whose colour follows from the ID, so
// the same person keeps the same colour everywhere. Every colour keeps
// white initials readable (WCAG AA) in both themes.
//
// avatar_url needs the session token like any API call, and an <img> cannot
// send it, so a photo is fetched once per URL (the URL changes with every
// new photo) and shown from a blob: URL; the initials stand in until it
// arrives, and for good when it cannot be had (removed, or blocked).
import { useEffect, useState } from 'preact/hooks';
import { getToken, profile } from './api';
import './people.css';

const colours = 8; // .avatar-c0 … .avatar-c7 in style.css

/** initials is the first letter of the first two words (one for a CJK name, which reads as a whole). */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = Array.from(words[0])[0] ?? '?';
  if (/[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/.test(first)) return first;
  const second = words.length > 1 ? Array.from(words[words.length - 1])[0] ?? '' : '';
  return (first + second).toUpperCase();
}

// colourOf mixes the whole seed (FNV-1a, then a finaliser) so that IDs made
// moments apart, which differ only in a few digits, still spread out.
function colourOf(seed: string): number {
  let h = 0x811c9dc5;
  for (const ch of seed) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) % colours;
}

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
  /** seed picks the colour: an account's or conversation's ID (the name when absent). */
  seed?: string;
  name: string;
  url?: string | null;
  size?: 'small' | 'normal' | 'big';
}

/** Avatar is decorative: the name always shows beside it, so it is hidden from screen readers. */
export function Avatar({ seed, name, url, size = 'normal' }: Props) {
  const [src, setSrc] = useState<string | null>(null);
  // The small size has a 64-pixel photo of its own; bigger ones use the 256-pixel one.
  const want = url && size === 'small' ? `${url}${url.includes('?') ? '&' : '?'}size=64` : url;
  useEffect(() => {
    setSrc(null);
    if (!want) return;
    let live = true;
    avatarSrc(want).then(
      (s) => live && setSrc(s),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [want]);
  const cls = `avatar avatar-c${colourOf(seed || name)}${size !== 'normal' ? ` ${size}` : ''}`;
  if (src) {
    return (
      <span class={`${cls} avatar-img`} aria-hidden="true">
        <img src={src} alt="" />
      </span>
    );
  }
  return (
    <span class={cls} aria-hidden="true">
      {initials(name)}
    </span>
  );
}

/** useAvatarURL reads an account's avatar_url from its profile, when the server gives one. */
export function useAvatarURL(id: string | null | undefined): string | null {
  const [url, setURL] = useState<string | null>(null);
  useEffect(() => {
    setURL(null);
    if (!id) return;
    let live = true;
    profile(id).then(
      (p) => {
        const u = (p as { avatar_url?: unknown }).avatar_url;
        if (live && typeof u === 'string' && u) setURL(u);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [id]);
  return url;
}
