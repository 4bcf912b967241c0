// Notifications: who mentioned you, replied, liked, reposted or followed,
// newest first, new ones added live; unread ones stand out until marked
// read.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { useSession } from '../app';
import { linkHandler } from '../router';
import { ErrorBox, shortTime } from '../ui';
import { Notice, NoticeList } from '../unread';
import { useProfile } from './PostCard';
import { MicroNav } from './postlist';
import { t } from '../i18n';
import { words } from '../words';

const what = words<string>({
  mention: 'notifications.what.mention',
  reply: 'notifications.what.reply',
  like: 'notifications.what.like',
  repost: 'notifications.what.repost',
  follow: 'notifications.what.follow',
});

function Row({ n }: { n: Notice }) {
  const p = useProfile(n.actor_id);
  const name = p === 'failed' ? t('common.someone') : p?.display_name ?? '…';
  const href = n.kind === 'follow' || !n.post_id ? `/accounts/${n.actor_id}` : `/posts/${n.post_id}`;
  return (
    <li class={n.read ? 'mb-notice' : 'mb-notice unread'}>
      <a href={href} onClick={linkHandler}>
        <span class="avatar small" aria-hidden="true">
          {[...name][0]?.toUpperCase()}
        </span>
        <span class="mb-notice-text">
          <strong>{name}</strong> {what[n.kind] ?? n.kind}
          {!n.read && <span class="visually-hidden"> {t('notifications.unread')}</span>}
        </span>
        <time class="muted" dateTime={n.created_at}>
          {shortTime(n.created_at)}
        </time>
      </a>
    </li>
  );
}

export function Notifications() {
  const { unread } = useSession();
  const [items, setItems] = useState<Notice[] | null>(null);
  const [cursor, setCursor] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [count, setCount] = useState(unread.count);

  const load = async (c: string) => {
    try {
      const l = await api<NoticeList>('GET', `/notifications${c ? `?cursor=${encodeURIComponent(c)}` : ''}`);
      setItems((cur) => {
        const list = c ? [...(cur ?? []), ...l.items] : l.items;
        const seen = new Set<string>();
        return list.filter((n) => !seen.has(n.id) && seen.add(n.id));
      });
      setCursor(l.next_cursor ?? '');
      setError(null);
    } catch (e) {
      setError(e);
    }
  };

  useEffect(() => {
    load('');
    const offCount = unread.onChange(setCount);
    const offNotice = unread.onNotice((n) => setItems((cur) => (cur && !cur.some((x) => x.id === n.id) ? [n, ...cur] : cur)));
    return () => {
      offCount();
      offNotice();
    };
  }, [unread]);

  const markAll = async () => {
    const newest = items?.[0];
    if (!newest) return;
    setBusy(true);
    setError(null);
    try {
      await unread.markRead(newest.id);
      setItems((cur) => cur && cur.map((n) => (BigInt(n.id) <= BigInt(newest.id) ? { ...n, read: true } : n)));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const anyUnread = count > 0 || (items ?? []).some((n) => !n.read);
  return (
    <main class="page mb-page">
      <MicroNav at="" />
      <div class="page-head">
        <h1>{t('notifications.notifications')}</h1>
        <button type="button" onClick={markAll} disabled={!anyUnread || busy || !items?.length}>
          {t('notifications.markAllAsRead')}
        </button>
      </div>
      <ErrorBox error={error} />
      {items === null ? (
        !error && <p aria-busy="true">{t('notifications.loading')}</p>
      ) : items.length === 0 ? (
        <p class="empty">{t('notifications.nothingYetYouHear')}</p>
      ) : (
        <ul class="mb-notices" aria-label={t('notifications.notifications')}>
          {items.map((n) => (
            <Row key={n.id} n={n} />
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" onClick={() => load(cursor)}>
          {t('notifications.loadMore')}
        </button>
      )}
    </main>
  );
}
