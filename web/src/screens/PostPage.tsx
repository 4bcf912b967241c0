// One post with its replies, oldest first, and a reply box. A reply written
// here (or arriving on the stream) joins the end of the list, and the
// post's reply count follows.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { useSession } from '../app';
import { MicroPost, rememberPost } from '../microblog';
import { linkHandler, navigate } from '../router';
import { ErrorBox } from '../ui';
import { PostComposer } from './Composer';
import { PostCard } from './PostCard';
import { MicroNav, MoreLoader, usePostList } from './postlist';
import { t } from '../i18n';

export function PostPage({ id }: { id: string }) {
  const { stream } = useSession();
  const [post, setPost] = useState<MicroPost | null>(null);
  const [error, setError] = useState<unknown>(null);
  const replies = usePostList(post ? `/posts/${id}/replies` : null, true);
  const repliesRef = useRef(replies);
  repliesRef.current = replies;

  const load = () =>
    api<MicroPost>('GET', `/posts/${id}`).then(
      (p) => {
        rememberPost(p);
        setPost(p);
        setError(null);
      },
      setError,
    );

  useEffect(() => {
    setPost(null);
    load();
    const offFrame = stream.onFrame((f) => {
      if (f.type !== 'post.created' || f.data?.reply_to !== id) return;
      addReply(f.data as MicroPost);
    });
    const offResync = stream.onResync(() => {
      load();
      repliesRef.current.refreshHead();
    });
    return () => {
      offFrame();
      offResync();
    };
  }, [id, stream]);

  // addReply counts a reply once. It joins the end of the list when the
  // list is complete; otherwise it comes with the last page.
  const seen = useRef(new Set<string>());
  const addReply = (r: MicroPost) => {
    const list = repliesRef.current;
    if (seen.current.has(r.id) || (list.items ?? []).some((x) => x.id === r.id)) return;
    seen.current.add(r.id);
    if (list.done) list.append([r]);
    setPost((p) => p && { ...p, reply_count: p.reply_count + 1 });
  };

  const focusReply = () => document.getElementById('reply-text')?.focus();

  return (
    <main class="page mb-page">
      <MicroNav at="" />
      <a href="/timeline" onClick={linkHandler} class="back-link">
        {t('postPage.home')}
      </a>
      <h1 class="visually-hidden">{t('postPage.post')}</h1>
      <ErrorBox error={error} />
      {post && (
        <>
          {post.reply_to && (
            <a href={`/posts/${post.reply_to}`} onClick={linkHandler} class="mb-context">
              {t('postPage.showThePostThis')}
            </a>
          )}
          <PostCard
            post={post}
            detail
            onChange={setPost}
            onReply={focusReply}
            onDeleted={() => navigate('/timeline', true)}
          />
          <section aria-labelledby="replies-h" class="mb-replies">
            <h2 id="replies-h">{t('postPage.replies')}</h2>
            <PostComposer replyTo={post} idPrefix="reply" onPosted={addReply} />
            {replies.items?.length === 0 && <p class="empty">{t('postPage.noRepliesYet')}</p>}
            <div class="mb-list" aria-label={t('postPage.replies')}>
              {replies.items?.map((r) => (
                <PostCard
                  key={r.id}
                  post={r}
                  inThread
                  onChange={replies.replace}
                  onDeleted={(rid) => {
                    replies.remove(rid);
                    setPost((p) => p && { ...p, reply_count: Math.max(0, p.reply_count - 1) });
                  }}
                />
              ))}
            </div>
            <MoreLoader list={replies} />
          </section>
        </>
      )}
    </main>
  );
}
