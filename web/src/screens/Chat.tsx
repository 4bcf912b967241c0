// One conversation: its history (with "earlier messages" going back), live
// messages from the stream, and a composer that sends text, photos (with
// upload progress), videos, files and voice messages over the stream, showing
// each message as sending until the server acknowledges it. Messages have a
// small menu (reply, recall); typing and, in direct chats, reading show live.
// The header names the person or group with an avatar (and a group's member
// count) and opens the details panel: members, renaming, leaving, and the
// photos and files shared in the loaded history.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, Conversation, goneAccount, List, Message, newClientID, profile } from '../api';
import { useSession } from '../app';
import { explain } from '../errors';
import { linkHandler } from '../router';
import { t } from '../i18n';
import { Avatar, useAvatarURL } from '../avatar';
import { BackIcon, MoreIcon } from '../icons';
import { useWide } from '../layout';
import { ChatDetails } from './ChatDetails';
import { ErrorBox, shortTime } from '../ui';
import { formatDuration, knownDurations, knownPosters, mediaURL, saveMedia, microphoneProblem, uploadMedia, VOICE_LIMIT_MS } from '../media';
import { SendRequest } from '../stream';
import type { Recorder } from '../recorder';
import { useTitle } from './title';
import { ModNote } from './ModNote';
import { ReportDialog } from './Report';
import { ForwardDialog, forwardable } from './Forward';
import { EmojiPicker } from './EmojiPicker';
import { complete, matches, Member, MentionSuggest, mentionQuery } from './MentionSuggest';
import { dayLabel, dayOf, MessageText } from '../messagetext';

interface Outgoing {
  client_id: string;
  kind: 'text' | 'image' | 'voice' | 'video' | 'file';
  text: string;
  file?: Blob;
  name?: string;
  preview?: string; // a blob: URL of a photo being sent
  reply_to?: string;
  media_id?: string; // set once uploaded, so a retry does not upload again
  progress?: number;
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
  const [showInfo, setShowInfo] = useState(false);
  const [recording, setRecording] = useState<Recorder | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const [micError, setMicError] = useState('');
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [members, setMembers] = useState<Member[]>([]);
  const [emoji, setEmoji] = useState(false);
  const [mention, setMention] = useState<{ start: number; query: string } | null>(null);
  const [mentionAt, setMentionAt] = useState(0);
  const [theirRead, setTheirRead] = useState(0); // the other person's read position, from live frames
  const [typist, setTypist] = useState(''); // who else is typing here
  const typistTimer = useRef<number | undefined>(undefined);
  const lastTyping = useRef(0);
  const photoInput = useRef<HTMLInputElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const stickToBottom = useRef(true);
  const title = useTitle(conv);
  const wide = useWide();
  const otherID = conv?.kind === 'direct' ? conv.member_ids.find((m) => m !== me.id) ?? me.id : null;
  const avatarURL = useAvatarURL(otherID);
  const detailsButton = useRef<HTMLButtonElement>(null);

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
      if ((f.type === 'message.created' || f.type === 'message.recalled' || f.type === 'message.moderated') && f.data?.conversation_id === id) {
        merge([f.data as Message]);
        if (f.type === 'message.created' && f.data.sender_id !== me.id) {
          clearTimeout(typistTimer.current);
          setTypist('');
        }
      } else if (f.type === 'conversation.read' && f.data?.conversation_id === id && f.data?.account_id !== me.id) {
        setTheirRead((r) => Math.max(r, Number(f.data.seq) || 0));
      } else if (f.type === 'typing' && f.data?.conversation_id === id && f.data?.account_id !== me.id) {
        profile(f.data.account_id).then((p) => {
          setTypist(p.display_name);
          clearTimeout(typistTimer.current);
          typistTimer.current = window.setTimeout(() => setTypist(''), 5000);
        }, () => {});
      } else if (f.type === 'conversation.updated' && f.data?.id === id) {
        setConv((c) => ({ ...c, ...f.data }));
      }
    });
    const offResync = stream.onResync(loadLatest);
    return () => {
      offFrame();
      offResync();
      clearTimeout(typistTimer.current);
      setTypist('');
      setReplyTo(null);
      setTheirRead(0);
    };
  }, [id, stream]);

  // The members' handles and names: for @ suggestions and marking mentions.
  const memberKey = conv?.member_ids.join(',') ?? '';
  useEffect(() => {
    if (!memberKey) return;
    let live = true;
    // Bounded: a very large group suggests among its first 300 members.
    const ids = memberKey.split(',').slice(0, 300);
    Promise.allSettled(ids.map((m) => profile(m))).then((rs) => {
      if (!live) return;
      setMembers(rs.flatMap((r) => (r.status === 'fulfilled' ? [{ id: r.value.id, handle: r.value.handle, display_name: r.value.display_name }] : [])));
    });
    return () => {
      live = false;
    };
  }, [memberKey]);
  const handles = members.map((x) => x.handle.toLowerCase());
  const suggestions = mention && conv?.kind === 'group' ? matches(members, mention.query, me.id) : [];

  const insertAtCaret = (ins: string) => {
    const el = document.getElementById('composer-text') as HTMLTextAreaElement | null;
    const at = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? at;
    setText(text.slice(0, at) + ins + text.slice(end));
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(at + ins.length, at + ins.length);
    });
  };

  const pickMention = (m: Member) => {
    if (!mention) return;
    const el = document.getElementById('composer-text') as HTMLTextAreaElement | null;
    const done = complete(text, mention, m.handle);
    setText(done.text);
    setMention(null);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(done.caret, done.caret);
    });
  };

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

  const patch = (clientID: string, change: Partial<Outgoing>) =>
    setOutgoing((cur) => cur.map((x) => (x.client_id === clientID ? { ...x, ...change } : x)));

  const deliver = async (o: Outgoing) => {
    try {
      let req: SendRequest;
      if (o.kind === 'text') {
        req = { conversation_id: id, client_id: o.client_id, kind: 'text', text: o.text };
        if (o.reply_to) req.reply_to = o.reply_to;
      } else {
        let mediaID = o.media_id;
        if (!mediaID) {
          const up = await uploadMedia(o.file!, o.name!, (f) => patch(o.client_id, { progress: f }));
          mediaID = up.id;
          if (up.duration_ms) knownDurations.set(up.id, up.duration_ms);
          if (o.kind === 'video') knownPosters.set(up.id, up.has_thumbnail);
          patch(o.client_id, { media_id: mediaID });
        }
        req = { conversation_id: id, client_id: o.client_id, kind: o.kind, media_id: mediaID };
        if (o.text) req.text = o.text;
      }
      const m = await stream.send(req);
      if (o.preview) URL.revokeObjectURL(o.preview);
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
    setText('');
    lastTyping.current = 0; // sending ends this bout of typing
    queue({ client_id: newClientID(), kind: 'text', text: body, reply_to: replyTo?.id });
    setReplyTo(null);
  };

  const queue = (o: Outgoing) => {
    stickToBottom.current = true;
    setOutgoing((cur) => [...cur, o]);
    deliver(o);
  };

  const pickPhoto = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    if (file.type.startsWith('video/')) {
      queue({ client_id: newClientID(), kind: 'video', text: '', file, name: file.name || 'video', progress: 0 });
      return;
    }
    queue({ client_id: newClientID(), kind: 'image', text: '', file, name: file.name || 'photo', preview: URL.createObjectURL(file), progress: 0 });
  };

  // Any file goes as a "file" message captioned with its name, so the other side can save it under that name.
  const pickFile = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    const name = (file.name || 'file').slice(0, 200);
    queue({ client_id: newClientID(), kind: 'file', text: name, file, name, progress: 0 });
  };

  // Recording: a timer shows the length and stops at the voice limit.
  useEffect(() => {
    if (!recording) return;
    const t = setInterval(() => {
      const ms = Date.now() - recording.startedAt;
      setElapsed(ms);
      if (ms >= VOICE_LIMIT_MS) finishRecording(true);
    }, 250);
    return () => clearInterval(t);
  }, [recording]);

  // Leaving the chat while recording releases the microphone.
  const recRef = useRef<Recorder | null>(null);
  recRef.current = recording;
  useEffect(() => () => void recRef.current?.stop(false), []);

  const startRecording = async () => {
    setMicError('');
    let r: Recorder;
    try {
      const { Recorder } = await import('../recorder');
      r = new Recorder();
      await r.start();
    } catch (err) {
      setMicError(microphoneProblem(err));
      return;
    }
    setElapsed(0);
    setRecording(r);
  };

  const finishRecording = async (keep: boolean) => {
    const r = recRef.current;
    if (!r) return;
    recRef.current = null;
    setRecording(null);
    const blob = await r.stop(keep);
    if (!blob || blob.size === 0) return;
    const ext = blob.type.includes('ogg') ? 'ogg' : blob.type.includes('mp4') ? 'm4a' : 'webm';
    queue({ client_id: newClientID(), kind: 'voice', text: '', file: blob, name: `voice.${ext}`, progress: 0 });
  };

  const retry = (o: Outgoing) => {
    setOutgoing((cur) => cur.map((x) => (x.client_id === o.client_id ? { ...x, error: undefined } : x)));
    deliver({ ...o, error: undefined });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (suggestions.length > 0 && !e.isComposing) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = suggestions.length;
        setMentionAt((i) => (i + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pickMention(suggestions[Math.min(mentionAt, suggestions.length - 1)]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setMention(null);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) send(e);
    else if (e.key === 'Escape' && replyTo) {
      e.preventDefault();
      setReplyTo(null);
    }
  };

  // A message already stored (say, echoed by the stream) replaces its pending copy.
  const stored = new Set(messages.map((m) => m.client_id).filter(Boolean));
  const pending = outgoing.filter((o) => !stored.has(o.client_id));
  const byID = new Map(messages.map((m) => [m.id, m]));
  // In a direct chat, "Read" goes under your last message the other person has read.
  const readMine = conv?.kind === 'direct' ? messages.filter((m) => m.sender_id === me.id && m.seq <= theirRead).at(-1)?.id : undefined;
  const startReply = (m: Message) => {
    setReplyTo(m);
    document.getElementById('composer-text')?.focus();
  };

  // Beside the list (wide) the list has the page's h1; alone, the conversation has it.
  const Heading = wide ? 'h2' : 'h1';
  return (
    <main class="chat" aria-labelledby="chat-title">
      <div class="chat-head">
        <a href="/" onClick={linkHandler} class="back" aria-label={t('shell.chat.back')}>
          <BackIcon />
        </a>
        {conv && <Avatar seed={otherID ?? conv.id} name={title} url={avatarURL} size="small" />}
        <div class="chat-head-text">
          <Heading id="chat-title">{title || t('shell.chat.untitled')}</Heading>
          {conv?.kind === 'group' && <span class="chat-sub">{t('shell.chat.members', { count: conv.member_ids.length })}</span>}
        </div>
        {conv && (
          <button
            type="button"
            ref={detailsButton}
            class="head-actions icon-button"
            aria-expanded={showInfo}
            aria-controls="chat-details"
            aria-label={conv.kind === 'group' ? t('shell.chat.groupInfo') : t('shell.chat.chatInfo')}
            title={conv.kind === 'group' ? t('shell.chat.groupInfo') : t('shell.chat.chatInfo')}
            onClick={() => setShowInfo(!showInfo)}
          >
            <MoreIcon />
          </button>
        )}
      </div>
      <div class="chat-body">
        <div class="chat-col">
          <p class="typing" role="status" aria-live="polite">
            {typist && t('shell.chat.typing', { name: typist })}
          </p>
          <ErrorBox error={loadError} />
          <ol class="messages" ref={listRef} onScroll={onScroll} aria-label={t('shell.chat.messages')} aria-live="polite" tabIndex={0}>
            {hasEarlier && (
              <li class="earlier">
                <button type="button" onClick={loadEarlier}>
                  {t('shell.chat.earlier')}
                </button>
              </li>
            )}
            {messages.map((m, i) => [
              (i === 0 || dayOf(messages[i - 1].created_at) !== dayOf(m.created_at)) && (
                <li key={`day-${m.id}`} class="day-sep">
                  <time dateTime={m.created_at.slice(0, 10)}>{dayLabel(m.created_at)}</time>
                </li>
              ),
              <Bubble
                key={m.id}
                m={m}
                handles={handles}
                meHandle={me.handle}
                mine={m.sender_id === me.id}
                group={conv?.kind === 'group'}
                quoted={m.reply_to ? byID.get(m.reply_to) ?? null : undefined}
                read={m.id === readMine}
                onReply={startReply}
                onChange={(x) => merge([x])}
              />,
            ])}
            {pending.map((o) => (
              <li key={o.client_id} class="msg mine pending">
                <div class="bubble">
                  {o.kind === 'image' ? (
                    <img class="photo" src={o.preview} alt={t('shell.chat.photoSending')} />
                  ) : o.kind === 'voice' ? (
                    t('shell.kind.voice')
                  ) : o.kind === 'video' ? (
                    t('shell.kind.video')
                  ) : o.kind === 'file' ? (
                    t('shell.kind.fileNamed', { name: o.text })
                  ) : (
                    o.text
                  )}
                </div>
                {o.kind !== 'text' && !o.media_id && !o.error && (
                  <div class="msg-meta">
                    <progress max={1} value={o.progress ?? 0} aria-label={{ image: t('shell.upload.photo'), voice: t('shell.upload.voice'), video: t('shell.upload.video'), file: t('shell.upload.file'), text: '' }[o.kind]} />{' '}
                    {t('shell.upload.progress', { percent: Math.round((o.progress ?? 0) * 100) })}
                  </div>
                )}
                {o.error ? (
                  <div class="msg-error" role="alert">
                    {t('shell.chat.notSent')} {explain(o.error).title} {explain(o.error).next}{' '}
                    {!(o.error instanceof ApiError && ['not_a_contact', 'blocked'].includes(o.error.code)) && (
                      <button type="button" onClick={() => retry(o)}>
                        {t('shell.chat.retry')}
                      </button>
                    )}
                  </div>
                ) : (
                  (o.kind === 'text' || o.media_id) && <div class="msg-meta">{t('shell.chat.sending')}</div>
                )}
              </li>
            ))}
          </ol>
          {micError && (
            <div class="error-box" role="alert">
              {micError}
            </div>
          )}
          {recording ? (
            <div class="composer">
              <span class="rec" role="status">
                <span class="rec-dot" aria-hidden="true" /> {t('shell.chat.recording', { duration: formatDuration(elapsed) })}
              </span>
              <button type="button" onClick={() => finishRecording(false)}>
                {t('shell.chat.cancelRecording')}
              </button>
              <button type="button" class="primary" onClick={() => finishRecording(true)}>
                {t('shell.chat.stopAndSend')}
              </button>
            </div>
          ) : (
            <>
              {replyTo && (
                <div class="reply-bar">
                  <span class="reply-quote" aria-label={t('shell.chat.replyingTo', { text: summary(replyTo) })}>
                    <span class="muted">{t('shell.chat.replyingToLabel')}</span> {summary(replyTo)}
                  </span>
                  <button type="button" onClick={() => { setReplyTo(null); document.getElementById('composer-text')?.focus(); }} aria-label={t('shell.chat.cancelReply')}>
                    {t('shell.cancel')}
                  </button>
                </div>
              )}
              {emoji && (
                <EmojiPicker
                  onPick={(c) => insertAtCaret(c)}
                  onClose={() => {
                    setEmoji(false);
                    document.getElementById('composer-text')?.focus();
                  }}
                />
              )}
              <MentionSuggest id="mention-list" items={suggestions} active={Math.min(mentionAt, Math.max(0, suggestions.length - 1))} onPick={pickMention} />
              <form class="composer" onSubmit={send}>
                <input id="photo-input" ref={photoInput} type="file" accept="image/*,video/*" hidden aria-label={t('shell.chat.photoInput')} onChange={pickPhoto} />
                <input id="file-input" ref={fileInput} type="file" hidden aria-label={t('shell.chat.fileInput')} onChange={pickFile} />
                <button type="button" class="icon" aria-label={t('shell.chat.attachPhoto')} title={t('shell.chat.attachPhoto')} onClick={() => photoInput.current?.click()}>
                  <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M4 8h3l2-3h6l2 3h3v11H4z" /><circle cx="12" cy="13" r="3.5" /></svg>
                </button>
                <button type="button" class="icon" aria-label={t('shell.chat.attachFile')} title={t('shell.chat.attachFile')} onClick={() => fileInput.current?.click()}>
                  <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M20 11.5l-8 8a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8" /></svg>
                </button>
                <button type="button" class="icon" aria-label={t('shell.chat.record')} title={t('shell.chat.record')} onClick={startRecording}>
                  <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><rect x="9" y="3" width="6" height="11" rx="3" /><path d="M5 11a7 7 0 0 0 14 0M12 18v3" /></svg>
                </button>
                <button type="button" class="icon" aria-label={t('messages.emoji')} title={t('messages.emoji')} aria-expanded={emoji} onClick={() => setEmoji(!emoji)}>
                  <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><circle cx="12" cy="12" r="9" /><path d="M8.5 14.5a4.5 4.5 0 0 0 7 0" /><path d="M9 9.5h.01M15 9.5h.01" /></svg>
                </button>
                <label for="composer-text" class="visually-hidden">
                  {t('shell.chat.message')}
                </label>
                <textarea
                  id="composer-text"
                  rows={1}
                  maxLength={4096}
                  placeholder={t('shell.chat.message')}
                  value={text}
                  aria-controls={suggestions.length > 0 ? 'mention-list' : undefined}
                  aria-activedescendant={suggestions.length > 0 ? `mention-list-${Math.min(mentionAt, suggestions.length - 1)}` : undefined}
                  onInput={(e) => {
                    const v = e.currentTarget.value;
                    setText(v);
                    setMention(mentionQuery(v, e.currentTarget.selectionStart ?? v.length));
                    setMentionAt(0);
                    // At most one typing frame every 3 seconds.
                    if (v.trim() && Date.now() - lastTyping.current >= 3000) {
                      lastTyping.current = Date.now();
                      stream.typing(id);
                    }
                  }}
                  onKeyDown={onKeyDown}
                />
                <button type="submit" class="primary" disabled={!text.trim()}>
                  {t('shell.chat.send')}
                </button>
              </form>
            </>
          )}
        </div>
        {conv && showInfo && (
          <ChatDetails
            conv={conv}
            title={title}
            avatarURL={avatarURL}
            otherID={otherID}
            messages={messages}
            onChange={setConv}
            onClose={() => {
              setShowInfo(false);
              detailsButton.current?.focus();
            }}
          />
        )}
      </div>
    </main>
  );
}

/** summary is a one-line stand-in for a message, for quotes. */
function summary(m: Message): string {
  if (m.recalled) return t('shell.msg.recalled');
  if (m.removed && !m.text && !m.media_id) return t('shell.msg.removed');
  if (m.kind === 'text') return m.text ?? '';
  const kinds: Record<string, string> = { image: t('shell.kind.photo'), voice: t('shell.kind.voice'), video: t('shell.kind.video'), file: t('shell.kind.file') };
  const kind = kinds[m.kind] ?? t('shell.kind.message');
  return m.text ? t('shell.kind.withText', { kind, text: m.text }) : kind;
}

const RECALL_MS = 2 * 60 * 1000;

interface BubbleProps {
  m: Message;
  /** handles are the conversation's members' (lower case), whose @mentions are marked; meHandle is the reader's. */
  handles: string[];
  meHandle: string;
  mine: boolean;
  group: boolean;
  quoted?: Message | null; // undefined: not a reply; null: the original is not loaded
  read?: boolean;
  onReply: (m: Message) => void;
  onChange: (m: Message) => void;
}

function Bubble({ m, handles, meHandle, mine, group, quoted, read, onReply, onChange }: BubbleProps) {
  const [sender, setSender] = useState('');
  const [menu, setMenu] = useState(false);
  const [reporting, setReporting] = useState(false);
  const [forwarding, setForwarding] = useState(false);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const { me } = useSession();
  const toggle = useRef<HTMLButtonElement>(null);
  const firstAction = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (menu) firstAction.current?.focus();
  }, [menu]);
  const closeMenu = () => {
    setMenu(false);
    toggle.current?.focus();
  };
  const canRecall = mine && Date.now() - Date.parse(m.created_at) < RECALL_MS;
  // Everyone but its sender sees a removed message as a tombstone, without its text or media.
  const tombstone = !!m.removed && !mine;
  const recall = async () => {
    setMenu(false);
    setError(null);
    try {
      onChange(await api<Message>('POST', `/conversations/${m.conversation_id}/messages/${m.id}/recall`));
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    if (group && !mine) profile(m.sender_id).then((p) => setSender(p.display_name), (e) => goneAccount(e) && setSender(t('shell.deletedAccount')));
  }, [m.sender_id, group, mine]);
  return (
    <li class={mine ? 'msg mine' : 'msg'} data-seq={m.seq}>
      {sender && <div class="msg-sender">{sender}</div>}
      <div class={m.recalled ? 'bubble recalled' : tombstone ? 'bubble recalled' : m.removed ? 'bubble removed' : 'bubble'}>
        {!m.recalled && !tombstone && <ModNote m={m} own={mine} what="message" />}
        {quoted !== undefined && !m.recalled && !tombstone && (
          <span class="quote">{quoted ? summary(quoted) : t('shell.msg.earlier')}</span>
        )}
        {m.recalled ? (
          t('shell.msg.recalled')
        ) : tombstone ? (
          t('shell.msg.removed')
        ) : m.kind === 'text' ? (
          <MessageText text={m.text ?? ''} handles={handles} me={meHandle} />
        ) : m.kind === 'image' && m.media_id ? (
          <>
            <Photo id={m.media_id} />
            {m.text && (
              <div>
                <MessageText text={m.text} handles={handles} me={meHandle} />
              </div>
            )}
          </>
        ) : m.kind === 'voice' && m.media_id ? (
          <Voice id={m.media_id} />
        ) : m.kind === 'video' && m.media_id ? (
          <>
            <Video id={m.media_id} />
            {m.text && <div>{m.text}</div>}
          </>
        ) : m.kind === 'file' && m.media_id ? (
          <FileChip id={m.media_id} name={m.text || t('shell.kind.attachment')} />
        ) : (
          `[${m.kind}${m.text ? `: ${m.text}` : ''}]`
        )}
      </div>
      <div class="msg-meta">
        <time dateTime={m.created_at}>{shortTime(m.created_at)}</time>
        {read && <span class="read"> · {t('shell.msg.read')}</span>}
        {!m.recalled && !tombstone && (
          <button
            type="button"
            class="msg-menu"
            ref={toggle}
            aria-label={t('shell.msg.actions')}
            aria-expanded={menu}
            onClick={() => setMenu(!menu)}
          >
            ⋯
          </button>
        )}
      </div>
      {menu && !m.recalled && !tombstone && (
        <div class="msg-actions" role="group" aria-label={t('shell.msg.actions')} onKeyDown={(e) => e.key === 'Escape' && closeMenu()}>
          <button
            type="button"
            ref={firstAction}
            onClick={() => {
              setMenu(false);
              onReply(m);
            }}
          >
            {t('shell.msg.reply')}
          </button>
          {m.kind === 'text' && m.text && (
            <button
              type="button"
              onClick={() => {
                navigator.clipboard?.writeText(m.text ?? '').then(() => {
                  setCopied(true);
                  setTimeout(() => setCopied(false), 1500);
                }, setError);
                setMenu(false);
              }}
            >
              {t('messages.copy')}
            </button>
          )}
          {forwardable(m, me.id) && (
            <button
              type="button"
              aria-haspopup="dialog"
              onClick={() => {
                setMenu(false);
                setForwarding(true);
              }}
            >
              {t('messages.forward')}
            </button>
          )}
          {canRecall && (
            <button type="button" class="danger" onClick={recall}>
              {t('shell.msg.recall')}
            </button>
          )}
          {!mine && (
            <button
              type="button"
              aria-haspopup="dialog"
              onClick={() => {
                setMenu(false);
                setReporting(true);
              }}
            >
              {t('shell.msg.report')}
            </button>
          )}
        </div>
      )}
      {copied && (
        <div class="msg-meta" role="status">
          {t('messages.copied')}
        </div>
      )}
      {forwarding && (
        <ForwardDialog
          m={m}
          onClose={() => {
            setForwarding(false);
            toggle.current?.focus();
          }}
        />
      )}
      {reporting && (
        <ReportDialog
          type="message"
          id={m.id}
          what={t('shell.msg.this')}
          onClose={() => {
            setReporting(false);
            toggle.current?.focus();
          }}
        />
      )}
      {error ? (
        <div class="msg-error" role="alert">
          {explain(error).title} {explain(error).next}
        </div>
      ) : null}
    </li>
  );
}

/** Photo shows an image's thumbnail (or the image when it has none), fetched with the session token. */
export function Photo({ id }: { id: string }) {
  const [src, setSrc] = useState('');
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    mediaURL(id, true)
      .catch(() => mediaURL(id))
      .then(
        (u) => live && setSrc(u),
        () => live && setFailed(true),
      );
    return () => {
      live = false;
    };
  }, [id]);
  const [full, setFull] = useState('');
  const [open, setOpen] = useState(false);
  const closeRef = useRef<HTMLButtonElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    closeRef.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && close();
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [open]);
  const show = () => {
    setOpen(true);
    mediaURL(id).then(setFull, () => setFull(src));
  };
  const close = () => {
    setOpen(false);
    opener.current?.focus();
  };
  if (failed) return <span class="muted">{t('shell.photo.failed')}</span>;
  if (!src) return <span class="photo photo-loading" role="img" aria-label={t('shell.photo.loading')} />;
  return (
    <>
      <button type="button" class="photo-open" ref={opener} onClick={show} aria-label={t('shell.photo.open')}>
        <img class="photo" src={src} alt={t('shell.kind.photo')} />
      </button>
      {open && (
        <div class="viewer" role="dialog" aria-modal="true" aria-label={t('shell.kind.photo')} onClick={close}>
          {full ? <img src={full} alt={t('shell.photo.full')} /> : <p>{t('shell.loading')}</p>}
          <button type="button" ref={closeRef} onClick={close}>
            {t('shell.close')}
          </button>
        </div>
      )}
    </>
  );
}

/** Voice plays a voice message and shows its length. */
function Voice({ id }: { id: string }) {
  const [src, setSrc] = useState('');
  const [ms, setMs] = useState(knownDurations.get(id) ?? 0);
  const [failed, setFailed] = useState(false);
  const probing = useRef(false);
  useEffect(() => {
    let live = true;
    mediaURL(id).then(
      (u) => live && setSrc(u),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [id]);
  // Recordings from MediaRecorder often carry no duration in their header:
  // seeking far ahead makes the browser find it.
  const onMeta = (e: Event) => {
    const a = e.currentTarget as HTMLAudioElement;
    if (Number.isFinite(a.duration)) {
      if (!ms) setMs(a.duration * 1000);
    } else if (!ms) {
      probing.current = true;
      a.currentTime = 1e7;
    }
  };
  const onDuration = (e: Event) => {
    const a = e.currentTarget as HTMLAudioElement;
    if (probing.current && Number.isFinite(a.duration)) {
      probing.current = false;
      setMs(a.duration * 1000);
      a.currentTime = 0;
    }
  };
  if (failed) return <span class="muted">{t('shell.voice.failed')}</span>;
  const length = ms ? formatDuration(ms) : '';
  return (
    <span class="voice">
      <span class="voice-label">
        {t('shell.kind.voice')}
        {length && <span class="voice-duration">{t('shell.voice.duration', { duration: length })}</span>}
      </span>
      {src && (
        <audio
          controls
          preload="metadata"
          src={src}
          aria-label={length ? t('shell.voice.label', { duration: length }) : t('shell.kind.voice')}
          onLoadedMetadata={onMeta}
          onDurationChange={onDuration}
        />
      )}
    </span>
  );
}

/** Video shows a video's poster (when it has one) and plays it from a blob: URL on click. */
function Video({ id }: { id: string }) {
  const [poster, setPoster] = useState('');
  const [src, setSrc] = useState('');
  const [state, setState] = useState<'idle' | 'loading' | 'failed'>('idle');
  useEffect(() => {
    let live = true;
    if (knownPosters.get(id) !== false) mediaURL(id, true).then((u) => live && setPoster(u), () => {});
    return () => {
      live = false;
    };
  }, [id]);
  const play = () => {
    setState('loading');
    mediaURL(id).then(setSrc, () => setState('failed'));
  };
  if (src) return <video class="video" controls autoPlay playsInline src={src} poster={poster || undefined} aria-label={t('shell.kind.video')} />;
  return (
    <span class="video-wrap">
      <button type="button" class="video-open" onClick={play} aria-label={t('shell.video.play')} disabled={state === 'loading'}>
        {poster ? <img class="photo" src={poster} alt="" /> : <span class="video-blank" aria-hidden="true" />}
        <span class="play" aria-hidden="true">▶</span>
      </button>
      {state === 'loading' && <span class="muted"> {t('shell.loading')}</span>}
      {state === 'failed' && <span class="muted"> {t('shell.video.failed')}</span>}
    </span>
  );
}

/** FileChip saves a file message's bytes under its name. */
export function FileChip({ id, name }: { id: string; name: string }) {
  const [state, setState] = useState<'idle' | 'loading' | 'failed'>('idle');
  const save = async () => {
    setState('loading');
    try {
      await saveMedia(id, name);
      setState('idle');
    } catch {
      setState('failed');
    }
  };
  return (
    <span class="file-chip">
      <button type="button" onClick={save} disabled={state === 'loading'} aria-label={t('shell.file.download', { name })}>
        <span aria-hidden="true">⬇ </span>
        {name}
      </button>
      {state === 'loading' && <span class="muted"> {t('shell.file.downloading')}</span>}
      {state === 'failed' && <span class="muted"> {t('shell.file.failed')}</span>}
    </span>
  );
}
