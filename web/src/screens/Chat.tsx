// One conversation: its history (with "earlier messages" going back), live
// messages from the stream, and a composer that sends over the stream and
// shows each message as sending until the server acknowledges it.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, Conversation, List, Message, newClientID, profile } from '../api';
import { useSession } from '../app';
import { explain } from '../errors';
import { linkHandler } from '../router';
import { ErrorBox, shortTime } from '../ui';
import { useTitle } from './title';

interface Outgoing {
  client_id: string;
  text: string;
  error?: unknown;
}

const PAGE = 50;

export function Chat({ id }: { id: string }) {
  const { me, stream } = useSession();
  const [conv, setConv] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [outgoing, setOutgoing] = useState<Outgoing[]>([]);
  const [hasEarlier, setHasEarlier] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [text, setText] = useState('');
  const listRef = useRef<HTMLOListElement>(null);
  const stickToBottom = useRef(true);
  const title = useTitle(conv);

  // merge adds or replaces messages by id, keeping them ordered by seq.
  const merge = (add: Message[]) =>
    setMessages((cur) => {
      const byID = new Map(cur.map((m) => [m.id, m]));
      for (const m of add) byID.set(m.id, m);
      return [...byID.values()].sort((a, b) => a.seq - b.seq);
    });

  const loadLatest = async () => {
    try {
      const [c, page] = await Promise.all([
        api<Conversation>('GET', `/conversations/${id}`),
        api<List<Message>>('GET', `/conversations/${id}/messages?limit=${PAGE}`),
      ]);
      setConv(c);
      merge(page.items);
      setHasEarlier(page.items.length > 0 && page.items[0].seq > 1);
      setLoadError(null);
    } catch (e) {
      setLoadError(e);
    }
  };

  const loadEarlier = async () => {
    const first = messages[0];
    if (!first) return;
    const list = listRef.current;
    const before = list ? list.scrollHeight - list.scrollTop : 0;
    try {
      const page = await api<List<Message>>('GET', `/conversations/${id}/messages?before_seq=${first.seq}&limit=${PAGE}`);
      stickToBottom.current = false;
      merge(page.items);
      setHasEarlier(page.items.length > 0 && page.items[0].seq > 1);
      // Keep the message the reader was looking at in place.
      requestAnimationFrame(() => {
        if (list) list.scrollTop = list.scrollHeight - before;
      });
    } catch (e) {
      setLoadError(e);
    }
  };

  useEffect(() => {
    loadLatest();
    const offFrame = stream.onFrame((f) => {
      if ((f.type === 'message.created' || f.type === 'message.recalled') && f.data?.conversation_id === id) {
        merge([f.data as Message]);
      } else if (f.type === 'conversation.updated' && f.data?.id === id) {
        setConv((c) => ({ ...c, ...f.data }));
      }
    });
    const offResync = stream.onResync(loadLatest);
    return () => {
      offFrame();
      offResync();
    };
  }, [id, stream]);

  // Mark what is shown as read, when the page is visible.
  const lastSeq = messages.length ? messages[messages.length - 1].seq : 0;
  const readSeq = useRef(0);
  useEffect(() => {
    const mark = () => {
      if (lastSeq > readSeq.current && document.visibilityState === 'visible') {
        readSeq.current = lastSeq;
        api('POST', `/conversations/${id}/read`, { seq: lastSeq }).catch(() => {
          readSeq.current = 0;
        });
      }
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [id, lastSeq]);

  useLayoutEffect(() => {
    const list = listRef.current;
    if (list && stickToBottom.current) list.scrollTop = list.scrollHeight;
  }, [messages, outgoing]);

  const onScroll = () => {
    const list = listRef.current;
    if (list) stickToBottom.current = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  };

  const deliver = async (o: Outgoing) => {
    try {
      const m = await stream.send({ conversation_id: id, client_id: o.client_id, kind: 'text', text: o.text });
      merge([m]);
      setOutgoing((cur) => cur.filter((x) => x.client_id !== o.client_id));
    } catch (e) {
      setOutgoing((cur) => cur.map((x) => (x.client_id === o.client_id ? { ...x, error: e } : x)));
    }
  };

  const send = (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    const o: Outgoing = { client_id: newClientID(), text: body };
    stickToBottom.current = true;
    setOutgoing((cur) => [...cur, o]);
    setText('');
    deliver(o);
  };

  const retry = (o: Outgoing) => {
    setOutgoing((cur) => cur.map((x) => (x.client_id === o.client_id ? { ...x, error: undefined } : x)));
    deliver({ ...o, error: undefined });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) send(e);
  };

  // A message already stored (say, echoed by the stream) replaces its pending copy.
  const stored = new Set(messages.map((m) => m.client_id).filter(Boolean));
  const pending = outgoing.filter((o) => !stored.has(o.client_id));

  return (
    <main class="chat">
      <div class="chat-head">
        <a href="/" onClick={linkHandler} class="back" aria-label="Back to chats">
          ←
        </a>
        <h1>{title || 'Chat'}</h1>
      </div>
      <ErrorBox error={loadError} />
      <ol class="messages" ref={listRef} onScroll={onScroll} aria-label="Messages" aria-live="polite" tabIndex={0}>
        {hasEarlier && (
          <li class="earlier">
            <button type="button" onClick={loadEarlier}>
              Show earlier messages
            </button>
          </li>
        )}
        {messages.map((m) => (
          <Bubble key={m.id} m={m} mine={m.sender_id === me.id} group={conv?.kind === 'group'} />
        ))}
        {pending.map((o) => (
          <li key={o.client_id} class="msg mine pending">
            <div class="bubble">{o.text}</div>
            {o.error ? (
              <div class="msg-error" role="alert">
                Not sent: {explain(o.error).title} {explain(o.error).next}{' '}
                {!(o.error instanceof ApiError && ['not_a_contact', 'blocked'].includes(o.error.code)) && (
                  <button type="button" onClick={() => retry(o)}>
                    Retry
                  </button>
                )}
              </div>
            ) : (
              <div class="msg-meta">Sending…</div>
            )}
          </li>
        ))}
      </ol>
      <form class="composer" onSubmit={send}>
        <label for="composer-text" class="visually-hidden">
          Message
        </label>
        <textarea
          id="composer-text"
          rows={1}
          maxLength={4096}
          placeholder="Message"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" class="primary" disabled={!text.trim()}>
          Send
        </button>
      </form>
    </main>
  );
}

function Bubble({ m, mine, group }: { m: Message; mine: boolean; group: boolean }) {
  const [sender, setSender] = useState('');
  useEffect(() => {
    if (group && !mine) profile(m.sender_id).then((p) => setSender(p.display_name), () => {});
  }, [m.sender_id, group, mine]);
  return (
    <li class={mine ? 'msg mine' : 'msg'} data-seq={m.seq}>
      {sender && <div class="msg-sender">{sender}</div>}
      <div class={m.recalled ? 'bubble recalled' : 'bubble'}>
        {m.recalled ? 'Message recalled' : m.kind === 'text' ? m.text : `[${m.kind}${m.text ? `: ${m.text}` : ''}]`}
      </div>
      <div class="msg-meta">
        <time dateTime={m.created_at}>{shortTime(m.created_at)}</time>
      </div>
    </li>
  );
}
