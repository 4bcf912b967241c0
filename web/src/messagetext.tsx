// How a chat message's text reads: web addresses become links that open
// elsewhere without telling that site where the reader came from (the server
// never fetches them: no previews), @handles of the conversation's members
// are marked, and a mention of the reader stands out.
import { segments } from './microblog';
import { formatDate, lang, t } from './i18n';

export function MessageText({ text, handles, me }: { text: string; handles: string[]; me: string }) {
  const mine = me.toLowerCase();
  return (
    <>
      {segments(text, [], handles).map((s, i) => {
        switch (s.kind) {
          case 'url':
            return (
              <a key={i} href={s.href} target="_blank" rel="noopener noreferrer nofollow ugc">
                {s.text}
              </a>
            );
          case 'mention':
            return (
              <span key={i} class={s.handle === mine ? 'mention mention-me' : 'mention'}>
                {s.text}
              </span>
            );
          default:
            return <span key={i}>{s.text}</span>;
        }
      })}
    </>
  );
}

/** mentions reports whether text @-mentions handle (as the server's push does). */
export function mentions(text: string, handle: string): boolean {
  const h = handle.toLowerCase();
  return segments(text, [], [h]).some((s) => s.kind === 'mention' && s.handle === h);
}

/** dayOf is the local calendar day of an instant, for grouping messages under date separators. */
export function dayOf(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/** dayLabel names a day the way people say it: today, yesterday, a weekday this week, else the date. */
export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const start = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((start(now) - start(d)) / 86_400_000);
  if (days === 0) return t('messages.today');
  if (days === 1) return t('messages.yesterday');
  if (days > 1 && days < 7) return formatDate(d, { weekday: 'long' });
  if (d.getFullYear() === now.getFullYear()) return formatDate(d, { month: 'long', day: 'numeric', weekday: lang() === 'zh-CN' ? 'short' : undefined });
  return formatDate(d, { dateStyle: 'long' });
}
