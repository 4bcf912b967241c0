// Avatars: a person's or group's photo when the profile has one
// (avatar_url), otherwise their initials in a circle whose colour follows
// from the ID, so the same person keeps the same colour everywhere. Every
// colour keeps white initials readable (WCAG AA) in both themes.
import { useEffect, useState } from 'preact/hooks';
import { profile } from './api';

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

interface Props {
  /** seed picks the colour: an account's or conversation's ID. */
  seed: string;
  name: string;
  url?: string | null;
  size?: 'small' | 'big';
}

/** Avatar is decorative: the name always shows beside it, so it is hidden from screen readers. */
export function Avatar({ seed, name, url, size }: Props) {
  const [failed, setFailed] = useState(false);
  useEffect(() => setFailed(false), [url]);
  const cls = `avatar avatar-c${colourOf(seed || name)}${size ? ` ${size}` : ''}`;
  if (url && !failed) {
    return <img class={`${cls} avatar-img`} src={url} alt="" aria-hidden="true" onError={() => setFailed(true)} />;
  }
  return (
    <span class={cls} aria-hidden="true">
      {initials(name)}
    </span>
  );
}

/** avatarURL reads an account's avatar_url from its profile, when the server gives one. */
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
