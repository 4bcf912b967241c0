// The home timeline: the composer on top, then own posts and those of
// followed accounts, newest first, with more pages as the reader scrolls.
// Posts that arrive on the stream (post.created) go on top at once when the
// reader is at the top, or wait behind an "N new posts" bar so the page
// does not jump under their thumb.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useSession } from '../app';
import { MicroPost } from '../microblog';
import { PostComposer } from './Composer';
import { PostCard } from './PostCard';
import { MicroNav, MoreLoader, usePostList } from './postlist';
import { t } from '../i18n';

export function Timeline() {
  const { stream } = useSession();
  const list = usePostList('/timeline');
  const [waiting, setWaiting] = useState<MicroPost[]>([]);
  const page = useRef<HTMLElement>(null);
  const listRef = useRef(list);
  listRef.current = list;

  useEffect(() => {
    const offFrame = stream.onFrame((f) => {
      if (f.type !== 'post.created' || !f.data?.id) return;
      const p = f.data as MicroPost;
      if (p.status && p.status !== 'published') return;
      const el = page.current;
      if (!el || el.scrollTop < 80) listRef.current.prepend([p]);
      else setWaiting((cur) => (cur.some((x) => x.id === p.id) ? cur : [p, ...cur]));
    });
    const refresh = () => listRef.current.refreshHead();
    const offState = stream.onState((s) => s === 'online' && refresh());
    const offResync = stream.onResync(refresh);
    return () => {
      offFrame();
      offState();
      offResync();
    };
  }, [stream]);

  const shown = new Set((list.items ?? []).map((p) => p.id));
  const unseen = waiting.filter((p) => !shown.has(p.id));
  const showWaiting = () => {
    list.prepend(unseen);
    setWaiting([]);
    page.current?.scrollTo({ top: 0 });
  };

  return (
    <main class="page mb-page" ref={page}>
      <MicroNav at="home" />
      <h1 class="visually-hidden">{t('timeline.homeTimeline')}</h1>
      <PostComposer onPosted={(p) => list.prepend([p])} />
      {unseen.length > 0 && (
        <button type="button" class="mb-new" onClick={showWaiting}>
          {t('timeline.newPosts', { count: unseen.length })}
        </button>
      )}
      <section aria-label={t('timeline.timeline')} class="mb-list">
        {list.items?.length === 0 && (
          <p class="empty">{t('timeline.nothingHereYetWrite')}</p>
        )}
        {list.items?.map((p) => (
          <PostCard key={p.id} post={p} onChange={list.replace} onDeleted={list.remove} onReposted={(r) => list.prepend([r])} />
        ))}
        <MoreLoader list={list} endText={t('timeline.youAreAllCaught')} />
      </section>
    </main>
  );
}
