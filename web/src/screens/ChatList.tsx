// The conversation list: newest activity first, with the last message and
// the unread count. It reloads when the stream reports a change.
import { useEffect, useState } from 'preact/hooks';
import { api, Conversation, List } from '../api';
import { useSession } from '../app';
import { linkHandler } from '../router';
import { ErrorBox, shortTime } from '../ui';
import { useTitle } from './title';

const refreshOn = new Set(['message.created', 'message.recalled', 'message.moderated', 'conversation.read', 'conversation.updated']);

export function ChatList() {
  const { stream } = useSession();
  const [items, setItems] = useState<Conversation[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let timer: number | undefined;
    let live = true;
    const load = () =>
      api<List<Conversation>>('GET', '/conversations').then(
        (l) => {
          if (!live) return;
          setItems(l.items);
          setError(null);
        },
        (e) => live && setError(e),
      );
    // Bursts of events cause one reload.
    const soon = () => {
      clearTimeout(timer);
      timer = window.setTimeout(load, 150);
    };
    load();
    const offFrame = stream.onFrame((f) => refreshOn.has(f.type) && soon());
    const offResync = stream.onResync(soon);
    const offState = stream.onState((s) => s === 'online' && soon());
    return () => {
      live = false;
      clearTimeout(timer);
      offFrame();
      offResync();
      offState();
    };
  }, [stream]);

  const sorted = items && [...items].sort((a, b) => activity(b).localeCompare(activity(a)));
  return (
    <main class="page">
      <div class="page-head">
        <h1>Chats</h1>
        <span class="actions">
          <a class="button" href="/new-group" onClick={linkHandler}>
            New group
          </a>
          <a class="button primary" href="/new" onClick={linkHandler}>
            New chat
          </a>
        </span>
      </div>
      <ErrorBox error={error} />
      {sorted === null ? (
        !error && <p>Loading…</p>
      ) : sorted.length === 0 ? (
        <p class="empty">
          No chats yet. Start one with <strong>New chat</strong>, using the other person’s account ID.
        </p>
      ) : (
        <ul class="chat-list" aria-label="Conversations">
          {sorted.map((c) => (
            <Row key={c.id} c={c} />
          ))}
        </ul>
      )}
    </main>
  );
}

function activity(c: Conversation): string {
  return c.last_message?.created_at ?? '';
}

function Row({ c }: { c: Conversation }) {
  const title = useTitle(c);
  const last = c.last_message;
  const unread = c.unread_count ?? 0;
  const preview = !last ? 'No messages yet' : last.recalled ? 'Message recalled' : last.removed && !last.text ? 'Message removed by a moderator' : last.kind === 'text' ? last.text : last.kind === 'image' ? 'Photo' : last.kind === 'voice' ? 'Voice message' : last.kind === 'video' ? 'Video' : last.kind === 'file' ? `File: ${last.text || 'attachment'}` : `[${last.kind}]`;
  return (
    <li>
      <a href={`/chats/${c.id}`} onClick={linkHandler} class={unread ? 'chat-row unread' : 'chat-row'}>
        <span class="avatar" aria-hidden="true">
          {title.slice(0, 1).toUpperCase()}
        </span>
        <span class="chat-main">
          <span class="chat-title">{title}</span>
          <span class="chat-preview">{preview}</span>
        </span>
        <span class="chat-meta">
          {last && <time dateTime={last.created_at}>{shortTime(last.created_at)}</time>}
          {unread > 0 && (
            <span class="badge" aria-label={`${unread} unread`}>
              {unread > 99 ? '99+' : unread}
            </span>
          )}
        </span>
      </a>
    </li>
  );
}
