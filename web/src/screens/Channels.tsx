// Public accounts: the combined feed of followed channels (with unread
// counts, live channel.post frames added on top), the directory with
// search, a channel's page (follow, posts, posting as owner or editor) and
// applying for a public account. Post bodies arrive as body_html, rendered
// from Markdown and sanitised by the server.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, Category, Channel, ChannelApplication, channelInfo, List, Post } from '../api';
import { useSession } from '../app';
import { linkHandler, navigate } from '../router';
import { describedBy, ErrorBox, Field, shortTime } from '../ui';
import { ModNote } from './ModNote';
import { ReportButton } from './Report';
import { t } from '../i18n';

type Unread = { channel_id: string; unread_count: number };

function ChannelName({ id }: { id: string }) {
  const [name, setName] = useState('');
  useEffect(() => {
    channelInfo(id).then((c) => setName(c.name), () => setName(t('channels.aPublicAccount')));
  }, [id]);
  return <>{name || '…'}</>;
}

function PostCard({ p, showChannel, own }: { p: Post; showChannel?: boolean; own?: boolean }) {
  const when = p.published_at ?? p.created_at;
  return (
    <article class="post" aria-labelledby={`post-${p.id}`}>
      {showChannel && (
        <a class="post-channel" href={`/channels/${p.channel_id}`} onClick={linkHandler}>
          <ChannelName id={p.channel_id} />
        </a>
      )}
      <h3 id={`post-${p.id}`}>{p.title}</h3>
      <div class="muted post-meta">
        <time dateTime={when}>{shortTime(when)}</time> · {p.category}
        {p.status !== 'published' && (
          <strong class="post-status">
            {' '}
            · {p.status === 'pending_review' ? t('channels.waitingForReview') : p.reason ? t('channels.rejectedReason', { reason: p.reason }) : t('channels.status.rejected')}
          </strong>
        )}
      </div>
      <ModNote m={p} own={!!own} what="channel post" />
      {/* body_html is rendered from Markdown with raw HTML dropped and sanitised by the server. */}
      <div class="post-body" dangerouslySetInnerHTML={{ __html: p.body_html }} />
      {!own && (
        <div class="post-actions">
          <ReportButton type="channel_post" id={p.id} what={`“${p.title}”`} class="link-button" />
        </div>
      )}
    </article>
  );
}

export function Channels() {
  const { me, stream } = useSession();
  const [posts, setPosts] = useState<Post[] | null>(null);
  const [unread, setUnread] = useState<Unread[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Channel[] | null>(null);
  const [searchError, setSearchError] = useState<unknown>(null);

  const loadFeed = () =>
    api<{ items: Post[]; unread: Unread[] }>('GET', '/feeds/channels').then(
      (f) => {
        setPosts(f.items);
        setUnread(f.unread ?? []);
        setError(null);
      },
      setError,
    );

  const search = (query: string) =>
    api<List<Channel>>('GET', `/channels?q=${encodeURIComponent(query.trim())}`).then(
      (l) => {
        setFound(l.items);
        setSearchError(null);
      },
      setSearchError,
    );

  useEffect(() => {
    loadFeed();
    search('');
    const offFrame = stream.onFrame((f) => {
      if (f.type !== 'channel.post') return;
      const p = f.data as Post;
      setPosts((cur) => (cur && !cur.some((x) => x.id === p.id) ? [p, ...cur] : cur));
      setUnread((cur) => {
        const has = cur.some((u) => u.channel_id === p.channel_id);
        return has
          ? cur.map((u) => (u.channel_id === p.channel_id ? { ...u, unread_count: u.unread_count + 1 } : u))
          : [...cur, { channel_id: p.channel_id, unread_count: 1 }];
      });
    });
    const offState = stream.onState((s) => s === 'online' && loadFeed());
    return () => {
      offFrame();
      offState();
    };
  }, [stream]);

  const onSearch = (e: Event) => {
    e.preventDefault();
    search(q);
  };

  const withUnread = unread.filter((u) => u.unread_count > 0);
  return (
    <main class="page">
      <div class="page-head">
        <h1>{t('channels.publicAccounts')}</h1>
        <a class="button" href="/channels/apply" onClick={linkHandler}>
          {t('channels.apply')}
        </a>
      </div>

      <section aria-labelledby="dir-h">
        <h2 id="dir-h" class="visually-hidden">
          {t('channels.directory')}
        </h2>
        <form role="search" onSubmit={onSearch} class="row">
          <label for="channel-q" class="visually-hidden">
            {t('channels.searchPublicAccounts')}
          </label>
          <input id="channel-q" type="search" placeholder={t('channels.searchPublicAccounts')} value={q} onInput={(e) => setQ(e.currentTarget.value)} />
          <button type="submit">{t('channels.search')}</button>
        </form>
        <ErrorBox error={searchError} />
        {found !== null &&
          (found.length === 0 ? (
            <p class="empty">{t('channels.noPublicAccountsMatch')}</p>
          ) : (
            <ul class="people" aria-label={t('channels.publicAccounts')}>
              {found.map((c) => (
                <li key={c.id}>
                  <a href={`/channels/${c.id}`} onClick={linkHandler} class="person">
                    <span>
                      {c.name} {c.verified && <span class="verified" title={t('channels.verifiedPublicAccount')} aria-label={t('channels.verified')}>✓</span>}
                    </span>
                    <span class="muted">
                      @{c.handle} · {t('channels.followers', { count: c.follower_count })}
                    </span>
                  </a>
                </li>
              ))}
            </ul>
          ))}
      </section>

      <section aria-labelledby="feed-h">
        <h2 id="feed-h">{t('channels.feed')}</h2>
        {withUnread.length > 0 && (
          <ul class="unread-list" aria-label={t('channels.unreadPosts')}>
            {withUnread.map((u) => (
              <li key={u.channel_id}>
                <a href={`/channels/${u.channel_id}`} onClick={linkHandler}>
                  <ChannelName id={u.channel_id} />
                </a>{' '}
                <span class="badge" aria-label={t('channels.unreadCountUnread', { unread_count: u.unread_count })}>
                  {u.unread_count}
                </span>
              </li>
            ))}
          </ul>
        )}
        <ErrorBox error={error} />
        {posts === null ? (
          !error && <p>{t('channels.loading')}</p>
        ) : posts.length === 0 ? (
          <p class="empty">{t('channels.nothingYetFollowPublic')}</p>
        ) : (
          <div class="posts" aria-label={t('channels.postsFromAccountsYou')}>
            {posts.map((p) => (
              <PostCard key={p.id} p={p} showChannel own={p.author_id === me.id} />
            ))}
          </div>
        )}
      </section>
    </main>
  );
}

export function ChannelPage({ id }: { id: string }) {
  const { me, stream } = useSession();
  const [ch, setCh] = useState<Channel | null>(null);
  const [posts, setPosts] = useState<Post[]>([]);
  const [held, setHeld] = useState<Post[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const canPost = !!ch && (ch.owner_id === me.id || (ch.editor_ids ?? []).includes(me.id));

  const load = async () => {
    try {
      const c = await api<Channel>('GET', `/channels/${id}`);
      setCh(c);
      const l = await api<List<Post>>('GET', `/channels/${id}/posts`);
      setPosts(l.items);
      if (c.owner_id === me.id || (c.editor_ids ?? []).includes(me.id)) {
        const [pend, rej] = await Promise.all([
          api<List<Post>>('GET', `/channels/${id}/posts?status=pending_review`),
          api<List<Post>>('GET', `/channels/${id}/posts?status=rejected`),
        ]);
        setHeld([...pend.items, ...rej.items]);
      }
      if (c.following) api('POST', `/channels/${id}/read`).catch(() => {});
      setError(null);
    } catch (e) {
      setError(e);
    }
  };

  useEffect(() => {
    load();
    return stream.onFrame((f) => {
      if (f.type === 'channel.post' && f.data?.channel_id === id) {
        const p = f.data as Post;
        setPosts((cur) => (cur.some((x) => x.id === p.id) ? cur : [p, ...cur]));
        api('POST', `/channels/${id}/read`).catch(() => {});
      }
    });
  }, [id, stream]);

  const toggleFollow = async () => {
    if (!ch) return;
    setActionError(null);
    try {
      await api(ch.following ? 'DELETE' : 'POST', `/channels/${id}/follow`);
      setCh(await api<Channel>('GET', `/channels/${id}`));
    } catch (e) {
      setActionError(e);
    }
  };

  const posted = (p: Post) => {
    if (p.status === 'published') setPosts((cur) => (cur.some((x) => x.id === p.id) ? cur : [p, ...cur]));
    else setHeld((cur) => [p, ...cur]);
  };

  return (
    <main class="page">
      <a href="/channels" onClick={linkHandler} class="back-link">
        {t('channels.publicAccounts2')}
      </a>
      <ErrorBox error={error} />
      {ch && (
        <>
          <header class="channel-head">
            <h1>
              {ch.name} {ch.verified && <span class="verified" title={t('channels.verifiedPublicAccount')} aria-label={t('channels.verified')}>✓</span>}
            </h1>
            <p class="muted">
              @{ch.handle} · {ch.kind === 'service' ? t('channels.serviceAccount') : t('channels.subscriptionAccount')} · {t('channels.followers', { count: ch.follower_count })}
            </p>
            {ch.description && <p>{ch.description}</p>}
            {ch.status !== 'active' && (
              <p class="error-box" role="status">
                {t('channels.thisAccountIs')} {ch.status}
                {ch.status_reason ? `: ${ch.status_reason}` : ''}.
              </p>
            )}
            <ModNote m={ch} own={canPost} what="public account" />
            <div class="row">
              <button type="button" class={ch.following ? '' : 'primary'} onClick={toggleFollow} aria-pressed={ch.following ? true : false}>
                {ch.following ? t('channels.following') : t('channels.follow')}
              </button>
              {!canPost && <ReportButton type="channel" id={ch.id} what={ch.name} />}
            </div>
            <ErrorBox error={actionError} />
          </header>
          {canPost && <Composer channel={ch} onPosted={posted} />}
          {canPost && held.length > 0 && (
            <section aria-labelledby="held-h">
              <h2 id="held-h">{t('channels.notPublished')}</h2>
              {held.map((p) => (
                <PostCard key={p.id} p={p} own />
              ))}
            </section>
          )}
          <section aria-labelledby="posts-h">
            <h2 id="posts-h">{t('channels.posts')}</h2>
            {posts.length === 0 ? (
              <p class="empty">{t('channels.noPostsYet')}</p>
            ) : (
              <div class="posts">
                {posts.map((p) => (
                  <PostCard key={p.id} p={p} own={canPost} />
                ))}
              </div>
            )}
          </section>
        </>
      )}
    </main>
  );
}

function Composer({ channel, onPosted }: { channel: Channel; onPosted: (p: Post) => void }) {
  const [cats, setCats] = useState<Category[] | null>(null);
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [category, setCategory] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<List<Category>>('GET', '/categories').then((l) => {
      const usable = l.items.filter((c) => c.policy !== 'forbidden');
      setCats(usable);
      if (usable.length) setCategory(usable[0].name);
    }, setError);
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setFields({});
    setNote('');
    setBusy(true);
    try {
      const p = await api<Post>('POST', `/channels/${channel.id}/posts`, { title: title.trim(), body, category });
      onPosted(p);
      setTitle('');
      setBody('');
      setNote(p.status === 'published' ? t('channels.published') : t('channels.sentForReviewIt'));
    } catch (err) {
      const f = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
      if (Object.keys(f).length) setFields(f);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  const markdownHint = t('channels.markdownHint');
  const policyWords: Record<string, string> = {
    open: t('channels.policy.open'),
    review: t('channels.policy.review'),
    credential: t('channels.policy.credential'),
  };
  return (
    <section aria-labelledby="compose-h" class="compose-post">
      <h2 id="compose-h">{t('channels.newPost')}</h2>
      {cats !== null && cats.length === 0 ? (
        <p class="empty">{t('channels.theOperatorHasNot')}</p>
      ) : (
        <form onSubmit={submit}>
          <Field id="post-title" label={t('channels.title')} error={fields.title}>
            <input
              id="post-title"
              required
              maxLength={200}
              value={title}
              onInput={(e) => setTitle(e.currentTarget.value)}
              aria-invalid={fields.title ? true : undefined}
              aria-describedby={describedBy('post-title', fields.title)}
            />
          </Field>
          <Field id="post-category" label={t('channels.category')} error={fields.category}>
            <select id="post-category" value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
              {(cats ?? []).map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name} ({policyWords[c.policy] ?? c.policy})
                </option>
              ))}
            </select>
          </Field>
          <Field id="post-body" label={t('channels.text')} hint={markdownHint} error={fields.body}>
            <textarea
              id="post-body"
              rows={6}
              required
              value={body}
              onInput={(e) => setBody(e.currentTarget.value)}
              aria-invalid={fields.body ? true : undefined}
              aria-describedby={describedBy('post-body', fields.body, markdownHint)}
            />
          </Field>
          <ErrorBox error={error} />
          <div class="row">
            <button type="submit" class="primary" disabled={busy || !category}>
              {t('channels.publish')}
            </button>
            <span role="status">{note}</span>
          </div>
        </form>
      )}
    </section>
  );
}

export function ApplyChannel() {
  const [apps, setApps] = useState<ChannelApplication[] | null>(null);
  const [handle, setHandle] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [kind, setKind] = useState('subscription');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = () => api<List<ChannelApplication>>('GET', '/channel-applications').then((l) => setApps(l.items), setError);
  useEffect(() => {
    load();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setFields({});
    setBusy(true);
    try {
      await api('POST', '/channel-applications', { handle: handle.trim(), name: name.trim(), description: description.trim(), kind });
      setHandle('');
      setName('');
      setDescription('');
      await load();
    } catch (err) {
      const f = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
      if (Object.keys(f).length) setFields(f);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  const handleHint = t('channels.handleHint');
  const status: Record<string, string> = {
    pending: t('channels.status.pending'),
    approved: t('channels.status.approved'),
    rejected: t('channels.status.rejected'),
  };
  return (
    <main class="page narrow">
      <a href="/channels" onClick={linkHandler} class="back-link">
        {t('channels.publicAccounts2')}
      </a>
      <h1>{t('channels.applyForAPublic')}</h1>
      {apps && apps.length > 0 && (
        <section aria-labelledby="apps-h">
          <h2 id="apps-h">{t('channels.yourApplications')}</h2>
          <ul class="people" aria-label={t('channels.yourApplications')}>
            {apps.map((a) => (
              <li key={a.id}>
                <span class="person">
                  <span>
                    {a.name} <span class="muted">@{a.handle}</span>
                  </span>
                  <span class="muted">
                    {status[a.status] ?? a.status}
                    {a.reason ? `: ${a.reason}` : ''}
                  </span>
                </span>
                {a.channel_id && (
                  <button type="button" onClick={() => navigate(`/channels/${a.channel_id}`)} aria-label={t('channels.openName', { name: a.name })}>
                    {t('channels.open')}
                  </button>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
      <p class="muted">{t('channels.aReviewerChecksEvery')}</p>
      <form onSubmit={submit}>
        <Field id="ch-handle" label={t('channels.handle')} hint={handleHint} error={fields.handle}>
          <input
            id="ch-handle"
            required
            value={handle}
            onInput={(e) => setHandle(e.currentTarget.value)}
            aria-invalid={fields.handle ? true : undefined}
            aria-describedby={describedBy('ch-handle', fields.handle, handleHint)}
          />
        </Field>
        <Field id="ch-name" label={t('channels.name')} error={fields.name}>
          <input
            id="ch-name"
            required
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            aria-invalid={fields.name ? true : undefined}
            aria-describedby={describedBy('ch-name', fields.name)}
          />
        </Field>
        <Field id="ch-desc" label={t('channels.description')} error={fields.description}>
          <textarea id="ch-desc" rows={3} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
        <Field id="ch-kind" label={t('channels.kind')} hint={t('channels.aSubscriptionAccountMay')} error={fields.kind}>
          <select id="ch-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)} aria-describedby="ch-kind-hint">
            <option value="subscription">{t('channels.subscriptionAccount')}</option>
            <option value="service">{t('channels.serviceAccount')}</option>
          </select>
        </Field>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {t('channels.sendApplication')}
        </button>
      </form>
    </main>
  );
}
