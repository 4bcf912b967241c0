// An account's profile: display name, handle, counts, the follow button
// (the count moves at once and back on a refusal) and their posts; and the
// lists of who follows them and whom they follow. A memorialised account
// reads "Remembering <name>"; a deleted one says so.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, List, Profile } from '../api';
import { useSession } from '../app';
import { Avatar } from '../avatar';
import { AccountProfile, textLang } from '../microblog';
import { linkHandler } from '../router';
import { ErrorBox } from '../ui';
import { PostCard, useProfile } from './PostCard';
import { MicroNav, MoreLoader, usePostList } from './postlist';
import { ReportButton } from './Report';
import { formatNumber, t } from '../i18n';

export function ProfilePage({ id }: { id: string }) {
  const { me } = useSession();
  const [p, setP] = useState<AccountProfile | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [followError, setFollowError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const posts = usePostList(`/accounts/${id}/posts`);
  const own = id === me.id;

  useEffect(() => {
    let live = true;
    api<AccountProfile>('GET', `/accounts/${id}`).then(
      (x) => live && setP(x),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [id]);

  const toggleFollow = async () => {
    if (!p || busy) return;
    const before = p;
    const follow = !p.following;
    setP({ ...p, following: follow, follower_count: Math.max(0, (p.follower_count ?? 0) + (follow ? 1 : -1)) });
    setFollowError(null);
    setBusy(true);
    try {
      await api(follow ? 'POST' : 'DELETE', `/accounts/${id}/follow`);
    } catch (e) {
      setP(before);
      setFollowError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="page mb-page">
      <MicroNav at={own ? 'me' : ''} />
      {error instanceof ApiError && error.status === 410 ? (
        <header class="mb-profile">
          <h1>{t('profile.deletedAccount')}</h1>
          <p class="muted">{t('profile.thisAccountWasDeleted')}</p>
        </header>
      ) : (
        <ErrorBox error={error} />
      )}
      {p && (
        <header class="mb-profile">
          <Avatar name={p.display_name} url={p.avatar_url} size="big" />
          <div class="mb-profile-main">
            <h1 lang={textLang(p.display_name)}>
              {p.memorialised ? t('profile.rememberingDisplayName', { display_name: p.display_name }) : p.display_name}
              {p.verified && (
                <span class="verified" title={t('profile.verified')} aria-label={t('profile.verified2')}>
                  {' '}
                  ✓
                </span>
              )}
            </h1>
            <p class="muted mb-handle">
              @{p.handle}
              {p.followed_by && !own && <span class="mb-chip">{t('profile.followsYou')}</span>}
            </p>
            {p.memorialised && (
              <p class="memorial-note">{t('profile.thisAccountIsMemorialised')}</p>
            )}
            <p class="mb-counts">
              <span>
                <strong>{formatNumber(p.post_count ?? 0)}</strong> {t('profile.postsWord', { count: p.post_count ?? 0 })}
              </span>
              <a href={`/accounts/${id}/following`} onClick={linkHandler}>
                <strong>{formatNumber(p.following_count ?? 0)}</strong> {t('profile.following')}
              </a>
              <a href={`/accounts/${id}/followers`} onClick={linkHandler} aria-label={t('profile.followers', { count: p.follower_count ?? 0 })}>
                <strong>{formatNumber(p.follower_count ?? 0)}</strong> {t('profile.followersWord', { count: p.follower_count ?? 0 })}
              </a>
            </p>
          </div>
          {!own && !p.memorialised && (
            <div class="mb-profile-actions">
              <button type="button" class={p.following ? 'mb-follow' : 'mb-follow primary'} onClick={toggleFollow} aria-pressed={!!p.following} disabled={busy}>
                {p.following ? t('profile.following2') : t('profile.follow')}
              </button>
              <ReportButton type="account" id={p.id} what={`@${p.handle}`} class="link-button" />
            </div>
          )}
        </header>
      )}
      <ErrorBox error={followError} />
      <section aria-label={own ? t('profile.yourPosts') : t('profile.posts2')} class="mb-list">
        {posts.items?.length === 0 && <p class="empty">{own ? t('profile.youHaveNotPosted') : t('profile.noPostsYouCan')}</p>}
        {posts.items?.map((x) => (
          <PostCard key={x.id} post={x} onChange={posts.replace} onDeleted={posts.remove} />
        ))}
        <MoreLoader list={posts} />
      </section>
    </main>
  );
}

/** Person is one row of a follower or following list. */
function Person({ id }: { id: string }) {
  const p = useProfile(id);
  const name = p === 'failed' ? t('common.someone') : p?.display_name ?? '…';
  return (
    <li>
      <a href={`/accounts/${id}`} onClick={linkHandler} class="person">
        <span lang={textLang(name)}>{name}</span>
        {p && p !== 'failed' && <span class="muted">@{p.handle}</span>}
      </a>
    </li>
  );
}

type Row = { id?: string; account_id?: string };

/** FollowList lists an account's followers or the accounts it follows, page by page. */
export function FollowList({ id, which }: { id: string; which: 'followers' | 'following' }) {
  const [rows, setRows] = useState<string[] | null>(null);
  const [cursor, setCursor] = useState('');
  const [error, setError] = useState<unknown>(null);
  const owner = useProfile(id);
  const load = async (c: string) => {
    try {
      const l = await api<List<Row | Profile>>('GET', `/accounts/${id}/${which}${c ? `?cursor=${encodeURIComponent(c)}` : ''}`);
      const ids = l.items.map((r) => (r as Row).account_id ?? (r as Row).id ?? '').filter(Boolean);
      setRows((cur) => [...new Set([...(c ? cur ?? [] : []), ...ids])]);
      setCursor(l.next_cursor ?? '');
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    setRows(null);
    load('');
  }, [id, which]);
  const whose = owner && owner !== 'failed' ? owner.display_name : '…';
  return (
    <main class="page mb-page">
      <a href={`/accounts/${id}`} onClick={linkHandler} class="back-link">
        ← {whose}
      </a>
      <h1>{which === 'followers' ? t('profile.followersOfWhose', { whose }) : t('profile.followedByWhose', { whose })}</h1>
      <ErrorBox error={error} />
      {rows === null ? (
        !error && <p>{t('profile.loading')}</p>
      ) : rows.length === 0 ? (
        <p class="empty">{which === 'followers' ? t('profile.noFollowersYet') : t('profile.notFollowingAnyoneYet')}</p>
      ) : (
        <ul class="people" aria-label={which === 'followers' ? t('profile.followers2') : t('profile.following2')}>
          {rows.map((r) => (
            <Person key={r} id={r} />
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" onClick={() => load(cursor)}>
          {t('profile.loadMore')}
        </button>
      )}
    </main>
  );
}
