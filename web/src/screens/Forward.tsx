// Forwarding: a modal dialog listing the person's conversations; picking
// one sends a copy of the message there as the person's own message. Text
// forwards as text; a photo, video, voice message or file forwards only when
// the person uploaded it (the server lets each upload be sent only by its
// uploader).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, Conversation, Message, newClientID, profile } from '../api';
import { useSession } from '../app';
import { explain } from '../errors';
import { t } from '../i18n';

/** forwardable reports whether m can be forwarded by the account me. */
export function forwardable(m: Message, me: string): boolean {
  if (m.recalled || m.removed) return false;
  if (m.kind === 'text') return !!m.text;
  return !!m.media_id && m.sender_id === me;
}

export function ForwardDialog({ m, onClose }: { m: Message; onClose: () => void }) {
  const { me, chats } = useSession();
  const ref = useRef<HTMLDialogElement>(null);
  const [names, setNames] = useState<Record<string, string>>({});
  const [sentTo, setSentTo] = useState<string[]>([]);
  const [problem, setProblem] = useState('');
  const list = (chats.items ?? []).filter((c) => c.id !== m.conversation_id);

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    for (const c of list) {
      if (c.kind !== 'direct') continue;
      const other = c.member_ids.find((x) => x !== me.id) ?? me.id;
      profile(other).then((p) => setNames((n) => ({ ...n, [c.id]: p.display_name })), () => {});
    }
  }, []);

  const title = (c: Conversation) => (c.kind === 'group' ? c.title || t('shell.group') : names[c.id] ?? '…');

  const send = async (c: Conversation) => {
    setProblem('');
    const body: Record<string, unknown> = { client_id: newClientID(), kind: m.kind };
    if (m.text) body.text = m.text;
    if (m.media_id) body.media_id = m.media_id;
    try {
      await api('POST', `/conversations/${c.id}/messages`, body);
      setSentTo((s) => [...s, c.id]);
    } catch (e) {
      const x = explain(e);
      setProblem(`${x.title} ${x.next}`);
    }
  };

  const close = () => {
    ref.current?.close();
    onClose();
  };

  return (
    <dialog ref={ref} class="modal" aria-labelledby="forward-title" onClose={onClose}>
      <h2 id="forward-title">{t('messages.forward.title')}</h2>
      {list.length === 0 ? (
        <p>{t('messages.forward.none')}</p>
      ) : (
        <ul class="forward-list">
          {list.map((c) => (
            <li key={c.id}>
              <span>{title(c)}</span>
              {sentTo.includes(c.id) ? (
                <span class="muted" role="status">
                  {t('messages.forward.sent')}
                </span>
              ) : (
                <button type="button" onClick={() => send(c)} aria-label={t('messages.forward.to', { name: title(c) })}>
                  {t('messages.forward.send')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {problem && (
        <p class="error-box" role="alert">
          {problem}
        </p>
      )}
      <div class="actions">
        <button type="button" onClick={close}>
          {t('messages.forward.done')}
        </button>
      </div>
    </dialog>
  );
}
