// Finding posts: a hashtag's page, what is trending in the last hour or day
// (ranked by how many different accounts use a tag), and search of public
// posts, which works for Chinese without spaces (天气 finds 今天天气很好)
// as well as for words.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { hashtagPath, textLang, Trend } from '../microblog';
import { linkHandler } from '../router';
import { ErrorBox } from '../ui';
import { PostCard } from './PostCard';
import { MicroNav, MoreLoader, usePostList } from './postlist';
import { t } from '../i18n';

/** tagLabel writes a tag the way people type it: #tag, or #话题# when it holds a space or CJK. */
export function tagLabel(tag: string): string {
  return /\s/.test(tag) || textLang(tag) ? `#${tag}#` : `#${tag}`;
}

export function HashtagPage({ tag }: { tag: string }) {
  const posts = usePostList(`/hashtags/${encodeURIComponent(tag)}/posts`);
  return (
    <main class="page mb-page">
      <MicroNav at="" />
      <h1 lang={textLang(tag)} class="mb-tag-head">
        {tagLabel(tag)}
      </h1>
      <section aria-label={t('discover.postsWithV', { tag: tagLabel(tag) })} class="mb-list">
        {posts.items?.length === 0 && <p class="empty">{t('discover.noPostsWithThis')}</p>}
        {posts.items?.map((p) => (
          <PostCard key={p.id} post={p} onChange={posts.replace} onDeleted={posts.remove} />
        ))}
        <MoreLoader list={posts} />
      </section>
    </main>
  );
}

const windows = [
  { id: '1h', label: 'discover.lastHour' },
  { id: '24h', label: 'discover.last24Hours' },
] as const;

export function Trending() {
  const [win, setWin] = useState<'1h' | '24h'>('24h');
  const [items, setItems] = useState<Trend[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    setItems(null);
    api<{ items: Trend[] }>('GET', `/trending?window=${win}`).then(
      (l) => {
        if (!live) return;
        setItems(l.items ?? []);
        setError(null);
      },
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [win]);
  return (
    <main class="page mb-page">
      <MicroNav at="trending" />
      <h1>{t('discover.trending')}</h1>
      <div class="tabs" role="tablist" aria-label={t('discover.timeWindow')}>
        {windows.map((w) => (
          <button
            key={w.id}
            type="button"
            role="tab"
            id={`win-${w.id}`}
            aria-selected={win === w.id}
            aria-controls="trending-panel"
            class={win === w.id ? 'tab active' : 'tab'}
            onClick={() => setWin(w.id)}
          >
            {t(w.label)}
          </button>
        ))}
      </div>
      <section id="trending-panel" role="tabpanel" aria-labelledby={`win-${win}`}>
        <ErrorBox error={error} />
        {items === null ? (
          !error && <p aria-busy="true">{t('discover.loading')}</p>
        ) : items.length === 0 ? (
          <p class="empty">{t('discover.noHashtagsInThis')}</p>
        ) : (
          <ol class="mb-trends" aria-label={t('discover.trendingHashtags')}>
            {items.map((tag, i) => (
              <li key={tag.tag}>
                <span class="mb-rank" aria-hidden="true">
                  {i + 1}
                </span>
                <a href={hashtagPath(tag.tag)} onClick={linkHandler} lang={textLang(tag.tag)}>
                  {tagLabel(tag.tag)}
                </a>
                <span class="muted">
                  {t('discover.people', { count: tag.account_count })} · {t('discover.posts', { count: tag.post_count })}
                </span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </main>
  );
}

function queryFromURL(): string {
  return new URLSearchParams(location.search).get('q') ?? '';
}

export function SearchPosts() {
  const [q, setQ] = useState(queryFromURL);
  const [query, setQuery] = useState(queryFromURL);
  const posts = usePostList(query.trim() ? `/search/posts?q=${encodeURIComponent(query.trim())}` : null);

  // Back and forward move between searches.
  useEffect(() => {
    const on = () => {
      const v = queryFromURL();
      setQ(v);
      setQuery(v);
    };
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);

  const submit = (e: Event) => {
    e.preventDefault();
    const v = q.trim();
    if (!v || v === query.trim()) return;
    history.pushState(null, '', `/search?q=${encodeURIComponent(v)}`);
    setQuery(v);
  };

  const terms = query.trim().split(/\s+/).filter(Boolean);
  return (
    <main class="page mb-page">
      <MicroNav at="search" />
      <h1>{t('discover.searchPosts')}</h1>
      <form role="search" class="row" onSubmit={submit}>
        <label for="post-q" class="visually-hidden">
          {t('discover.searchPosts')}
        </label>
        <input id="post-q" type="search" value={q} placeholder={t('discover.wordsTags')} onInput={(e) => setQ(e.currentTarget.value)} />
        <button type="submit">{t('discover.search')}</button>
      </form>
      <p class="hint">{t('discover.publicPostsThatContain')}</p>
      {query.trim() && (
        <section aria-label={t('discover.searchResults')} class="mb-list">
          {posts.items?.length === 0 && <p class="empty">{t('discover.noPublicPostsMatch')}</p>}
          {posts.items?.map((p) => (
            <PostCard key={p.id} post={p} onChange={posts.replace} onDeleted={posts.remove} highlight={terms} />
          ))}
          <MoreLoader list={posts} />
        </section>
      )}
    </main>
  );
}
