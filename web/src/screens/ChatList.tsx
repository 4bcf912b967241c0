// The conversation list: newest activity first, with an avatar, the last
// message and the unread count, and a search box that filters it by the
// group's title or the other person's name. It follows the shared list
// the stream keeps current. On a wide screen it is the left pane, with the
// open conversation marked.
import { useEffect, useState } from 'preact/hooks';
import { api, Conversation, goneAccount, Message, profile } from '../api';
import { useSession } from '../app';
import { Avatar } from '../avatar';
import { t } from '../i18n';
import { SearchIcon } from '../icons';
import { linkHandler } from '../router';
import { ErrorBox, shortTime } from '../ui';

interface Props {
  /** pane: shown beside the conversation (a section, not the page's main). */
  pane?: boolean;
  /** selected is the ID of the open conversation. */
  selected?: string;
}

/** Named is what a row needs about the other person of a direct chat. */
interface Named {
  name: string;
  handle: string;
  avatar?: string;
}

export function ChatList({ pane, selected }: Props) {
  const { me, chats } = useSession();
  const [items, setItems] = useState<Conversation[] | null>(chats.items);
  const [error, setError] = useState<unknown>(chats.error);
  const [query, setQuery] = useState('');
  const [people, setPeople] = useState<Record<string, Named>>({});

  useEffect(() => {
    const sync = () => {
      setItems(chats.items);
      setError(chats.error);
    };
    sync();
    return chats.onChange(sync);
  }, [chats]);

  // The other person of each direct chat, for its title, avatar and the search.
  const others = (items ?? []).filter((c) => c.kind === 'direct').map((c) => other(c, me.id));
  const missing = others.filter((id) => !(id in people)).join(',');
  useEffect(() => {
    if (!missing) return;
    let live = true;
    for (const id of missing.split(',')) {
      profile(id).then(
        (p) => {
          const avatar = (p as { avatar_url?: unknown }).avatar_url;
          live && setPeople((cur) => ({ ...cur, [id]: { name: p.display_name, handle: p.handle, avatar: typeof avatar === 'string' ? avatar : undefined } }));
        },
        (e) => live && setPeople((cur) => ({ ...cur, [id]: { name: goneAccount(e) ? t('shell.deletedAccount') : t('shell.someone'), handle: '' } })),
      );
    }
    return () => {
      live = false;
    };
  }, [missing]);

  const titleOf = (c: Conversation): string =>
    c.kind === 'group' ? c.title || t('shell.group') : people[other(c, me.id)]?.name ?? '…';

  const sorted = items && [...items].sort((a, b) => activity(b).localeCompare(activity(a)));
  const q = query.trim().toLocaleLowerCase();
  const shown =
    sorted &&
    (q
      ? sorted.filter((c) => {
          const p = c.kind === 'direct' ? people[other(c, me.id)] : undefined;
          return [titleOf(c), p?.handle ?? ''].some((s) => s.toLocaleLowerCase().includes(q));
        })
      : sorted);

  const found = useMessageSearch(query);

  const Tag = pane ? 'section' : 'main';
  return (
    <Tag class={pane ? 'chat-list-pane' : 'page chat-list-page'} aria-labelledby="chats-title">
      <div class="page-head">
        <h1 id="chats-title">{t('shell.chats.title')}</h1>
        <span class="actions">
          <a class="button" href="/new-group" onClick={linkHandler}>
            {t('shell.chats.newGroup')}
          </a>
          <a class="button primary" href="/new" onClick={linkHandler}>
            {t('shell.chats.newChat')}
          </a>
        </span>
      </div>
      {sorted && sorted.length > 0 && (
        <div class="search" role="search">
          <SearchIcon size={18} />
          <label for="chat-search" class="visually-hidden">
            {t('shell.chats.searchLabel')}
          </label>
          <input
            id="chat-search"
            type="search"
            placeholder={t('shell.chats.search')}
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
            autoComplete="off"
          />
        </div>
      )}
      <ErrorBox error={error} />
      {shown === null ? (
        !error && <p>{t('shell.loading')}</p>
      ) : sorted!.length === 0 ? (
        <p class="empty">{t('shell.chats.none')}</p>
      ) : shown.length === 0 ? (
        !found?.length && (
          <p class="empty" role="status">
            {t('shell.chats.noMatch', { query: query.trim() })}
          </p>
        )
      ) : (
        <ul class="chat-list" aria-label={t('shell.chats.list')}>
          {shown.map((c) => (
            <Row key={c.id} c={c} title={titleOf(c)} avatar={c.kind === 'direct' ? people[other(c, me.id)]?.avatar : undefined} seed={c.kind === 'direct' ? other(c, me.id) : c.id} current={c.id === selected} />
          ))}
        </ul>
      )}
      {found && found.length > 0 && (
        <section aria-labelledby="found-title" class="found">
          <h2 id="found-title" class="found-title">{t('messages.search.found', { count: found.length })}</h2>
          <ul class="chat-list">
            {found.map((f) => {
              const c = items?.find((x) => x.id === f.conversation_id);
              return (
                <li key={f.message.id}>
                  <a href={`/chats/${f.conversation_id}`} onClick={linkHandler} class="chat-row">
                    <Avatar seed={c?.kind === 'direct' ? other(c, me.id) : f.conversation_id} name={c ? titleOf(c) : ''} url={c?.kind === 'direct' ? people[other(c, me.id)]?.avatar : undefined} />
                    <span class="chat-main">
                      <span class="chat-title">{c ? titleOf(c) : t('shell.group')}</span>
                      <span class="chat-preview">{f.message.text}</span>
                    </span>
                    <span class="chat-meta">
                      <time dateTime={f.message.created_at}>{shortTime(f.message.created_at)}</time>
                    </span>
                  </a>
                </li>
              );
            })}
          </ul>
        </section>
      )}
    </Tag>
  );
}

interface Found {
  conversation_id: string;
  message: Message;
}

/**
 * useMessageSearch asks the server for messages matching the query in the
 * person's own conversations (Chinese without spaces works), a moment
 * after typing stops; null while there is no query.
 */
function useMessageSearch(query: string): Found[] | null {
  const [found, setFound] = useState<Found[] | null>(null);
  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setFound(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      api<{ items: Found[] }>('GET', `/messages/search?q=${encodeURIComponent(q)}&limit=20`).then(
        (r) => live && setFound(r.items),
        () => live && setFound([]),
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [query]);
  return found;
}

function other(c: Conversation, me: string): string {
  return c.member_ids.find((m) => m !== me) ?? me;
}

function activity(c: Conversation): string {
  return c.last_message?.created_at ?? '';
}

/** preview is a one-line stand-in for a conversation's last message. */
export function preview(last: Message | null | undefined): string {
  if (!last) return t('shell.preview.none');
  if (last.recalled) return t('shell.msg.recalled');
  if (last.removed && !last.text) return t('shell.msg.removed');
  switch (last.kind) {
    case 'text':
      return last.text ?? '';
    case 'image':
      return t('shell.kind.photo');
    case 'voice':
      return t('shell.kind.voice');
    case 'video':
      return t('shell.kind.video');
    case 'file':
      return t('shell.kind.fileNamed', { name: last.text || t('shell.kind.attachment') });
    default:
      return `[${last.kind}]`;
  }
}

interface RowProps {
  c: Conversation;
  title: string;
  seed: string;
  avatar?: string;
  current: boolean;
}

function Row({ c, title, seed, avatar, current }: RowProps) {
  const last = c.last_message;
  const unread = c.unread_count ?? 0;
  const cls = ['chat-row', unread ? 'unread' : '', current ? 'current' : ''].filter(Boolean).join(' ');
  return (
    <li>
      <a href={`/chats/${c.id}`} onClick={linkHandler} class={cls} aria-current={current ? 'page' : undefined}>
        <Avatar seed={seed} name={title} url={avatar} />
        <span class="chat-main">
          <span class="chat-title">{title}</span>
          <span class="chat-preview">{preview(last)}</span>
        </span>
        <span class="chat-meta">
          {last && <time dateTime={last.created_at}>{shortTime(last.created_at)}</time>}
          {unread > 0 && (
            <span class="badge" aria-label={t('shell.unreadMessages', { count: unread })}>
              {badgeText(unread)}
            </span>
          )}
        </span>
      </a>
    </li>
  );
}

const badgeText = (n: number) => (n > 99 ? '99+' : String(n));
