// One microblog post as a card: author, time, text with hashtag, mention
// and web links, photos, the original it reposts, and the reply, repost and
// like buttons. Likes and reposts count at once and roll back when the
// server refuses; the author can delete the post.
import { useEffect, useState } from 'preact/hooks';
import { api, profile, Profile } from '../api';
import { explain } from '../errors';
import {
  codePoints,
  forgetPost,
  hashtagPath,
  MicroPost,
  postInfo,
  rememberPost,
  segments,
  TEXT_LIMIT,
  textLang,
  Visibility,
  visibilityWords,
} from '../microblog';
import { linkHandler, navigate } from '../router';
import { shortTime } from '../ui';
import { Photo } from './Chat';
import { useSession } from '../app';
import { ModNote } from './ModNote';
import { ReportButton } from './Report';
import { formatDateTime, formatNumber, t } from '../i18n';
import { Avatar } from '../avatar';

/** useProfile returns an account's public profile (cached per page load), or null while it loads. */
export function useProfile(id: string): Profile | null | 'failed' {
  const [p, setP] = useState<Profile | null | 'failed'>(null);
  useEffect(() => {
    let live = true;
    setP(null);
    profile(id).then(
      (x) => live && setP(x),
      () => live && setP('failed'),
    );
    return () => {
      live = false;
    };
  }, [id]);
  return p;
}

/** marked wraps each occurrence of the search terms in <mark>. */
function marked(text: string, terms: string[]) {
  const words = terms.map((t) => t.replace(/^[#@]/, '')).filter(Boolean);
  if (words.length === 0) return text;
  const re = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'giu');
  return text.split(re).map((part, i) => (i % 2 ? <mark key={i}>{part}</mark> : part));
}

/** RichText renders post text with its hashtags, mentions and web addresses as links. */
export function RichText({ post, highlight }: { post: Pick<MicroPost, 'text' | 'hashtags' | 'mentions'>; highlight?: string[] }) {
  if (!post.text) return null;
  return (
    <p class="mb-text" lang={textLang(post.text)}>
      {segments(post.text, post.hashtags, post.mentions).map((s, i) => {
        switch (s.kind) {
          case 'tag':
            return (
              <a key={i} href={hashtagPath(s.tag)} onClick={linkHandler} class="mb-tag">
                {s.text}
              </a>
            );
          case 'mention':
            return <MentionLink key={i} text={s.text} handle={s.handle} accountID={s.accountID} />;
          case 'url':
            return (
              <a key={i} href={s.href} target="_blank" rel="noopener noreferrer nofollow ugc">
                {s.text}
              </a>
            );
          default:
            return highlight ? <span key={i}>{marked(s.text, highlight)}</span> : s.text;
        }
      })}
    </p>
  );
}

function MentionLink({ text, handle, accountID }: { text: string; handle: string; accountID?: string }) {
  const href = accountID ? `/accounts/${accountID}` : `/search?q=${encodeURIComponent(`@${handle}`)}`;
  return (
    <a href={href} onClick={linkHandler} class="mb-mention">
      {text}
    </a>
  );
}

/** AuthorLine shows who wrote a post, linked to their profile. */
function AuthorLine({ id }: { id: string }) {
  const p = useProfile(id);
  const name = p === 'failed' ? t('common.someone') : p?.display_name ?? '…';
  return (
    <a href={`/accounts/${id}`} onClick={linkHandler} class="mb-author">
      <Avatar seed={id} name={name} url={p && p !== 'failed' ? p.avatar_url : null} size="small" />
      <span class="mb-names">
        <span class="mb-name">
          {name}
          {p && p !== 'failed' && p.verified && (
            <span class="verified" title={t('postCard.verified')} aria-label={t('postCard.verified2')}>
              {' '}
              ✓
            </span>
          )}
        </span>
        {p && p !== 'failed' && <span class="muted mb-handle">@{p.handle}</span>}
      </span>
    </a>
  );
}

/** PhotoGrid lays out a post's photos: one large, or up to nine in a grid of three. */
export function PhotoGrid({ ids }: { ids: string[] }) {
  if (ids.length === 0) return null;
  return (
    <div class={ids.length === 1 ? 'mb-media one' : ids.length === 2 || ids.length === 4 ? 'mb-media two' : 'mb-media'}>
      {ids.map((m) => (
        <Photo key={m} id={m} />
      ))}
    </div>
  );
}

/** QuotedPost shows the original a repost carries, compact and linked to its page. */
function QuotedPost({ id }: { id: string }) {
  const [p, setP] = useState<MicroPost | null | 'gone'>(null);
  useEffect(() => {
    let live = true;
    postInfo(id).then(
      (x) => live && setP(x),
      () => live && setP('gone'),
    );
    return () => {
      live = false;
    };
  }, [id]);
  if (p === 'gone') return <div class="mb-quote muted">{t('postCard.thisPostIsNot')}</div>;
  if (!p) return <div class="mb-quote muted">…</div>;
  return (
    <div class="mb-quote">
      <AuthorLine id={p.author_id} />
      <ModNote m={p} own={false} />
      <RichText post={p} />
      <PhotoGrid ids={p.media_ids ?? []} />
      {p.repost_of && (
        <a href={`/posts/${p.repost_of}`} onClick={linkHandler} class="muted mb-context">
          {t('postCard.repostingAnotherPost')}
        </a>
      )}
      <a href={`/posts/${p.id}`} onClick={linkHandler} class="mb-open">
        {t('postCard.openTheOriginalPost')}
      </a>
    </div>
  );
}

const icons = {
  reply: <path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1.1-4.6A8 8 0 1 1 21 12z" />,
  repost: <path d="M7 7h11l-3-3M17 17H6l3 3M18 7v5M6 17v-5" />,
  like: <path d="M12 20s-7-4.4-8.6-8.6C2.2 8 4.3 5 7.5 5c1.9 0 3.3 1 4.5 2.6C13.2 6 14.6 5 16.5 5c3.2 0 5.3 3 4.1 6.4C19 15.6 12 20 12 20z" />,
};

function Icon({ name, filled }: { name: keyof typeof icons; filled?: boolean }) {
  return (
    <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" fill={filled ? 'currentColor' : 'none'} stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      {icons[name]}
    </svg>
  );
}

const visibilityMark: Record<Visibility, string> = { public: '', followers: '👥', contacts: '🔒' };

interface CardProps {
  post: MicroPost;
  /** onChange receives the post with new counts (or the server's copy). */
  onChange?: (p: MicroPost) => void;
  /** onDeleted is called once the author's delete succeeded. */
  onDeleted?: (id: string) => void;
  /** onReposted receives a repost just made of this post. */
  onReposted?: (p: MicroPost) => void;
  /** onReply is what the reply button does (default: open the post). */
  onReply?: () => void;
  /** detail shows the post as the subject of its own page. */
  detail?: boolean;
  /** inThread leaves out "in reply to": the post shows under what it answers. */
  inThread?: boolean;
  /** highlight marks search terms in the text. */
  highlight?: string[];
}

/** PostCard is a post with its actions. */
export function PostCard({ post, onChange, onDeleted, onReposted, onReply, detail, inThread, highlight }: CardProps) {
  const { me } = useSession();
  const [p, setP] = useState(post);
  const [error, setError] = useState<unknown>(null);
  const [liking, setLiking] = useState(false);
  const [reposting, setReposting] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  useEffect(() => {
    setP(post);
    rememberPost(post);
  }, [post]);

  const change = (x: MicroPost) => {
    setP(x);
    rememberPost(x);
    onChange?.(x);
  };

  const toggleLike = async () => {
    if (liking) return;
    const before = p;
    const liked = !p.liked;
    change({ ...p, liked, like_count: Math.max(0, p.like_count + (liked ? 1 : -1)) });
    setError(null);
    setLiking(true);
    try {
      await api(liked ? 'POST' : 'DELETE', `/posts/${p.id}/like`);
    } catch (e) {
      change(before);
      setError(e);
    } finally {
      setLiking(false);
    }
  };

  const remove = async () => {
    setError(null);
    try {
      await api('DELETE', `/posts/${p.id}`);
      forgetPost(p.id);
      onDeleted?.(p.id);
    } catch (e) {
      setError(e);
      setConfirmDelete(false);
    }
  };

  const reply = onReply ?? (() => navigate(`/posts/${p.id}`));
  const own = p.author_id === me.id;
  const pureRepost = !!p.repost_of && !p.text && !(p.media_ids ?? []).length;
  const when = (
    <time dateTime={p.created_at} title={formatDateTime(new Date(p.created_at))}>
      {shortTime(p.created_at)}
    </time>
  );
  return (
    <article class={`mb-post${detail ? ' detail' : ''}${p.removed ? ' removed' : ''}`} data-post-id={p.id}>
      <header class="mb-head">
        <AuthorLine id={p.author_id} />
        <span class="muted mb-meta">
          {pureRepost && <span>{t('postCard.reposted')} </span>}
          {detail ? (
            when
          ) : (
            <a href={`/posts/${p.id}`} onClick={linkHandler} class="mb-time" aria-label={t('postCard.openThePostFrom', { time: shortTime(p.created_at) })}>
              {when}
            </a>
          )}
          {p.visibility !== 'public' && (
            <span title={t('postCard.visibleToV', { audience: visibilityWords[p.visibility] })}>
              {' '}
              · <span aria-hidden="true">{visibilityMark[p.visibility]}</span> {visibilityWords[p.visibility]}
            </span>
          )}
        </span>
      </header>
      {p.status !== 'published' && (
        <p class="mb-status">{p.status === 'pending_review' ? t('postCard.waitingForReviewOnly') : t('postCard.rejectedByAReviewer')}</p>
      )}
      {p.reply_to && !detail && !inThread && (
        <a href={`/posts/${p.reply_to}`} onClick={linkHandler} class="muted mb-context">
          {t('postCard.inReplyToA')}
        </a>
      )}
      <ModNote m={p} own={own} what={p.reply_to ? 'reply' : 'post'} />
      <RichText post={p} highlight={highlight} />
      <PhotoGrid ids={p.media_ids ?? []} />
      {p.repost_of && <QuotedPost id={p.repost_of} />}
      <footer class="mb-actions">
        <button type="button" class="mb-action" onClick={reply} aria-label={t('postCard.replyCount', { count: p.reply_count })}>
          <Icon name="reply" /> <span class="mb-count">{p.reply_count}</span>
        </button>
        <button
          type="button"
          class="mb-action"
          onClick={() => setReposting(!reposting)}
          aria-expanded={reposting}
          aria-label={t('postCard.repostCount', { count: p.repost_count })}
        >
          <Icon name="repost" /> <span class="mb-count">{p.repost_count}</span>
        </button>
        <button
          type="button"
          class={p.liked ? 'mb-action liked' : 'mb-action'}
          onClick={toggleLike}
          aria-pressed={p.liked}
          aria-label={t('postCard.likeCount', { count: p.like_count })}
        >
          <Icon name="like" filled={p.liked} /> <span class="mb-count">{p.like_count}</span>
        </button>
        {own &&
          (confirmDelete ? (
            <span class="mb-confirm" role="group" aria-label={t('postCard.deleteThisPost')}>
              <span>{t('postCard.delete')}</span>
              <button type="button" class="danger-inline" onClick={remove}>
                {t('postCard.delete2')}
              </button>
              <button type="button" onClick={() => setConfirmDelete(false)}>
                {t('postCard.keep')}
              </button>
            </span>
          ) : (
            <button type="button" class="mb-action mb-delete" onClick={() => setConfirmDelete(true)} aria-label={t('postCard.deleteThisPost2')}>
              {t('postCard.delete2')}
            </button>
          ))}
        {!own && <ReportButton type="post" id={p.id} what={p.reply_to ? t('postCard.thisReply') : t('postCard.thisPost')} class="mb-action mb-report" />}
      </footer>
      {reposting && (
        <RepostPanel
          post={p}
          onDone={(r) => {
            setReposting(false);
            if (r) onReposted?.(r);
          }}
          onCount={(delta) => change({ ...p, repost_count: Math.max(0, p.repost_count + delta) })}
        />
      )}
      {error ? (
        <p class="msg-error" role="alert">
          {explain(error).title} {explain(error).next}
        </p>
      ) : null}
    </article>
  );
}

interface RepostProps {
  post: MicroPost;
  onDone: (repost: MicroPost | null) => void;
  onCount: (delta: number) => void;
}

/** RepostPanel reposts a post at once, or with a comment; the count moves first and moves back on a refusal. */
function RepostPanel({ post, onDone, onCount }: RepostProps) {
  const [comment, setComment] = useState('');
  const [visibility, setVisibility] = useState<Visibility>('public');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fieldError, setFieldError] = useState('');
  const used = codePoints(comment);
  const over = used > TEXT_LIMIT;
  const id = `repost-${post.id}`;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (over || busy) return;
    setBusy(true);
    setError(null);
    setFieldError('');
    onCount(1);
    try {
      const body: Record<string, unknown> = { repost_of: post.id, visibility };
      if (comment.trim()) body.text = comment;
      const r = await api<MicroPost>('POST', '/posts', body);
      onDone(r);
    } catch (err: any) {
      onCount(-1);
      const f = err?.fields?.() ?? {};
      if (f.text) setFieldError(f.text);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="mb-repost" onSubmit={submit} aria-label={t('postCard.repost')}>
      <label for={`${id}-text`}>{t('postCard.commentOptional')}</label>
      <textarea
        id={`${id}-text`}
        rows={2}
        value={comment}
        onInput={(e) => setComment(e.currentTarget.value)}
        aria-invalid={over || fieldError ? true : undefined}
        aria-describedby={`${id}-count${fieldError ? ` ${id}-error` : ''}`}
      />
      <span id={`${id}-count`} class={over ? 'counter over' : 'counter'}>
        {formatNumber(used)} / {formatNumber(TEXT_LIMIT)}
      </span>
      {fieldError && (
        <p class="field-error" id={`${id}-error`}>
          {fieldError}
        </p>
      )}
      <div class="row mb-repost-row">
        <label for={`${id}-vis`} class="visually-hidden">
          {t('postCard.whoCanSeeThe')}
        </label>
        <select id={`${id}-vis`} value={visibility} onChange={(e) => setVisibility(e.currentTarget.value as Visibility)}>
          {(Object.keys(visibilityWords) as Visibility[]).map((v) => (
            <option key={v} value={v}>
              {visibilityWords[v]}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => onDone(null)}>
          {t('postCard.cancel')}
        </button>
        <button type="submit" class="primary" disabled={busy || over} aria-busy={busy}>
          {busy ? t('postCard.reposting') : comment.trim() ? t('postCard.repostWithComment') : t('postCard.repost')}
        </button>
      </div>
      {error ? (
        <p class="msg-error" role="alert">
          {explain(error).title} {explain(error).next}
        </p>
      ) : null}
    </form>
  );
}
