// The breakpoint between the phone layout (one screen at a time, a tab bar
// at the bottom) and the desktop one (a navigation rail, the chat list
// beside the open conversation). style.css uses the same width.
import { useEffect, useState } from 'preact/hooks';

export const wideQuery = '(min-width: 900px)';

function matches(): boolean {
  return typeof matchMedia === 'function' && matchMedia(wideQuery).matches;
}

/** useWide reports whether the window is wide enough for the desktop layout, and follows resizes. */
export function useWide(): boolean {
  const [wide, setWide] = useState(matches);
  useEffect(() => {
    const mq = matchMedia(wideQuery);
    const on = () => setWide(mq.matches);
    on();
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return wide;
}
