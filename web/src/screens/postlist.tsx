// Lists of posts shared by the timeline, profiles, hashtag pages and
// search: cursor pages merged by ID (so a post never shows twice, even
// while new ones arrive), a head refresh after a reconnect that keeps what
// was loaded when it still joins up, and a loader that asks for the next
// page as the end of the list scrolls into view.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, List } from '../api';
import { byNewest, MicroPost } from '../microblog';
import { linkHandler } from '../router';
import { ErrorBox } from '../ui';
import { useSession } from '../app';
import { t } from '../i18n';

const PAGE = 20;

export interface PostList {
  items: MicroPost[] | null;
  error: unknown;
  loading: boolean;
  done: boolean;
  more: () => void;
  /** prepend adds posts at the top, skipping those already shown. */
  prepend: (ps: MicroPost[]) => void;
  /** append adds posts at the end (oldest-first lists), skipping those already shown. */
  append: (ps: MicroPost[]) => void;
  replace: (p: MicroPost) => void;
  remove: (id: string) => void;
  /** refreshHead fetches the first page again and merges it; with a gap it starts over. */
  refreshHead: () => void;
}

function withQuery(path: string, cursor: string): string {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (cursor) q.set('cursor', cursor);
  return `${path}${path.includes('?') ? '&' : '?'}${q}`;
}

/**
 * usePostList pages through path (newest first unless oldestFirst). A null
 * path loads nothing.
 */
export function usePostList(path: string | null, oldestFirst = false): PostList {
  const [items, setItems] = useState<MicroPost[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [done, setDone] = useState(false);
  const cursor = useRef('');
  const busy = useRef(false);
  const gen = useRef(0); // bumps when path changes, so late answers are dropped
  const itemsRef = useRef<MicroPost[] | null>(null);
  itemsRef.current = items;

  const order = (list: MicroPost[]) => (oldestFirst ? [...list].sort(byNewest).reverse() : [...list].sort(byNewest));

  const first = useCallback(async () => {
    if (!path) return;
    const g = ++gen.current;
    busy.current = true;
    setLoading(true);
    try {
      const l = await api<List<MicroPost>>('GET', withQuery(path, ''));
      if (g !== gen.current) return;
      cursor.current = l.next_cursor ?? '';
      setItems(l.items ?? []);
      setDone(!l.next_cursor);
      setError(null);
    } catch (e) {
      if (g === gen.current) setError(e);
    } finally {
      if (g === gen.current) {
        busy.current = false;
        setLoading(false);
      }
    }
  }, [path]);

  useEffect(() => {
    setItems(null);
    setDone(false);
    setError(null);
    cursor.current = '';
    first();
  }, [first]);

  const more = useCallback(async () => {
    if (!path || busy.current || !cursor.current) return;
    const g = gen.current;
    busy.current = true;
    setLoading(true);
    try {
      const l = await api<List<MicroPost>>('GET', withQuery(path, cursor.current));
      if (g !== gen.current) return;
      cursor.current = l.next_cursor ?? '';
      setDone(!l.next_cursor);
      setItems((cur) => {
        const have = new Set((cur ?? []).map((p) => p.id));
        return [...(cur ?? []), ...(l.items ?? []).filter((p) => !have.has(p.id))];
      });
      setError(null);
    } catch (e) {
      if (g === gen.current) setError(e);
    } finally {
      if (g === gen.current) {
        busy.current = false;
        setLoading(false);
      }
    }
  }, [path]);

  const refreshHead = useCallback(async () => {
    if (!path) return;
    const have = itemsRef.current;
    if (!have || have.length === 0 || oldestFirst) return first();
    const g = gen.current;
    try {
      const l = await api<List<MicroPost>>('GET', withQuery(path, ''));
      if (g !== gen.current) return;
      const page = l.items ?? [];
      const known = new Set((itemsRef.current ?? []).map((p) => p.id));
      // The page reaches into what is shown: merge. Otherwise posts are
      // missing in between: start over from this page.
      if (page.length < PAGE || page.some((p) => known.has(p.id))) {
        setItems((cur) => {
          const byID = new Map((cur ?? []).map((p) => [p.id, p]));
          for (const p of page) byID.set(p.id, p);
          return [...byID.values()].sort(byNewest);
        });
      } else {
        cursor.current = l.next_cursor ?? '';
        setDone(!l.next_cursor);
        setItems(page);
      }
      setError(null);
    } catch (e) {
      if (g === gen.current) setError(e);
    }
  }, [path, first, oldestFirst]);

  const add = (ps: MicroPost[], atTop: boolean) =>
    setItems((cur) => {
      const list = cur ?? [];
      const have = new Set(list.map((p) => p.id));
      const fresh = order(ps.filter((p) => !have.has(p.id)));
      if (fresh.length === 0) return cur;
      return atTop ? [...fresh, ...list] : [...list, ...fresh];
    });

  return {
    items,
    error,
    loading,
    done,
    more,
    prepend: (ps) => add(ps, true),
    append: (ps) => add(ps, false),
    replace: (p) => setItems((cur) => cur && cur.map((x) => (x.id === p.id ? p : x))),
    remove: (id) => setItems((cur) => cur && cur.filter((x) => x.id !== id)),
    refreshHead,
  };
}

/** MoreLoader asks for the next page when it scrolls into view, and offers a button for keyboards. */
export function MoreLoader({ list, endText }: { list: PostList; endText?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const { items, loading, done, more, error } = list;
  useEffect(() => {
    const el = ref.current;
    if (!el || done || items === null || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((es) => es.some((e) => e.isIntersecting) && more(), { rootMargin: '400px 0px' });
    io.observe(el);
    return () => io.disconnect();
  }, [done, items, more]);
  if (items === null) return error ? <ErrorBox error={error} /> : <p aria-busy="true">{t('postlist.loading')}</p>;
  return (
    <div ref={ref} class="mb-more">
      <ErrorBox error={error} />
      {done ? (
        items.length > 0 && endText && <p class="muted">{endText}</p>
      ) : (
        <button type="button" onClick={more} disabled={loading} aria-busy={loading}>
          {loading ? t('postlist.loading') : t('postlist.loadMore')}
        </button>
      )}
    </div>
  );
}

/** MicroNav moves between the microblog's pages. */
export function MicroNav({ at }: { at: 'home' | 'trending' | 'search' | 'me' | 'notifications' | '' }) {
  const { me } = useSession();
  const link = (href: string, label: string, here: boolean) => (
    <a href={href} onClick={linkHandler} class={here ? 'tab active' : 'tab'} aria-current={here ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <nav class="tabs mb-nav" aria-label={t('postlist.posts')}>
      {link('/timeline', t('postlist.home'), at === 'home')}
      {link('/trending', t('postlist.trending'), at === 'trending')}
      {link('/search', t('postlist.search'), at === 'search')}
      {link(`/accounts/${me.id}`, t('postlist.myPosts'), at === 'me')}
    </nav>
  );
}
