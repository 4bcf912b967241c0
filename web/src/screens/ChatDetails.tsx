// The details panel of a conversation, opened from its header: who it is
// with (for a group, the members and their roles, inviting a contact,
// renaming for the owner and admins, and leaving after a confirmation),
// and the photos and files shared in the history loaded so far. Beside the
// messages on a wide screen; over them on a phone.
import { useEffect, useRef, useState } from 'preact/hooks';
import { muteConversation } from '../push';
import { api, Contact, Conversation, goneAccount, List, Message, profile, Profile } from '../api';
import { useSession } from '../app';
import { Avatar, useAvatarURL } from '../avatar';
import { ConfirmDialog } from '../confirm';
import { t } from '../i18n';
import { CloseIcon } from '../icons';
import { navigate } from '../router';
import { ErrorBox } from '../ui';
import { FileChip, Photo } from './Chat';

/** Roles is what GET /conversations/{id} says about a group's owner and admins. */
type WithRoles = Conversation & { owner_id?: string; admin_ids?: string[] };

interface Props {
  conv: Conversation;
  title: string;
  avatarURL: string | null;
  otherID: string | null;
  messages: Message[];
  onChange: (c: Conversation) => void;
  onClose: () => void;
}

export function ChatDetails({ conv, title, avatarURL, otherID, messages, onChange, onClose }: Props) {
  const { me } = useSession();
  const c = conv as WithRoles;
  const group = conv.kind === 'group';
  const heading = group ? t('shell.chat.groupInfo') : t('shell.chat.chatInfo');
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => closeRef.current?.focus(), []);
  const roleOf = (id: string) => (c.owner_id === id ? 'owner' : c.admin_ids?.includes(id) ? 'admin' : 'member');
  const mine = roleOf(me.id);
  const [other, setOther] = useState<Profile | null>(null);
  useEffect(() => {
    if (otherID) profile(otherID).then(setOther, () => {});
  }, [otherID]);

  const media = messages.filter((m) => !m.recalled && !m.removed && m.media_id && (m.kind === 'image' || m.kind === 'file'));
  const photos = media.filter((m) => m.kind === 'image');
  const files = media.filter((m) => m.kind === 'file');

  return (
    <aside id="chat-details" class="details" aria-labelledby="details-title" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <div class="details-head">
        <h2 id="details-title">{heading}</h2>
        <button type="button" class="icon-button" ref={closeRef} onClick={onClose} aria-label={t('shell.details.close')} title={t('shell.details.close')}>
          <CloseIcon />
        </button>
      </div>
      <div class="details-who">
        <Avatar seed={otherID ?? conv.id} name={title} url={avatarURL} size="big" />
        <p class="details-name">{title}</p>
        <p class="muted">{group ? t('shell.chat.members', { count: conv.member_ids.length }) : other ? `@${other.handle}` : ''}</p>
      </div>
      <Mute conv={conv} onChange={onChange} />
      {group && (mine === 'owner' || mine === 'admin') && <Rename conv={conv} onChange={onChange} />}
      {group && <Members conv={c} roleOf={roleOf} onChange={onChange} />}
      <section aria-labelledby="details-media">
        <h3 id="details-media">{t('shell.details.media')}</h3>
        {media.length === 0 ? (
          <p class="muted small">{t('shell.details.noMedia')}</p>
        ) : (
          <>
            {photos.length > 0 && (
              <ul class="media-grid" aria-label={t('shell.details.photos')}>
                {photos.map((m) => (
                  <li key={m.id}>
                    <Photo id={m.media_id!} />
                  </li>
                ))}
              </ul>
            )}
            {files.length > 0 && (
              <ul class="media-files" aria-label={t('shell.details.files')}>
                {files.map((m) => (
                  <li key={m.id}>
                    <FileChip id={m.media_id!} name={m.text || t('shell.kind.attachment')} />
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </section>
      {group && <Leave conv={conv} />}
    </aside>
  );
}

function Rename({ conv, onChange }: { conv: Conversation; onChange: (c: Conversation) => void }) {
  const [title, setTitle] = useState(conv.title ?? '');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  useEffect(() => setTitle(conv.title ?? ''), [conv.title]);
  const save = async (e: Event) => {
    e.preventDefault();
    const want = title.trim();
    if (!want || want === conv.title) return;
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      await api('PATCH', `/conversations/${conv.id}`, { title: want });
      onChange(await api<Conversation>('GET', `/conversations/${conv.id}`));
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="details-rename" onSubmit={save}>
      <label for="group-title">{t('shell.details.rename')}</label>
      <div class="row">
        <input id="group-title" value={title} maxLength={100} onInput={(e) => { setTitle(e.currentTarget.value); setDone(false); }} />
        <button type="submit" disabled={busy || !title.trim() || title.trim() === conv.title}>
          {t('shell.details.save')}
        </button>
      </div>
      <p class="hint" role="status">
        {done ? t('shell.details.renamed') : ''}
      </p>
      <ErrorBox error={error} />
    </form>
  );
}

function Members({ conv, roleOf, onChange }: { conv: WithRoles; roleOf: (id: string) => string; onChange: (c: Conversation) => void }) {
  const { me } = useSession();
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [invitee, setInvitee] = useState('');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<List<Contact>>('GET', '/contacts').then((l) => setContacts(l.items), setError);
  }, []);
  const candidates = contacts.filter((c) => !conv.member_ids.includes(c.id));
  // The owner first, then admins, then the rest in the order the server gives.
  const rank = (id: string) => ({ owner: 0, admin: 1 })[roleOf(id)] ?? 2;
  const members = [...conv.member_ids].sort((a, b) => rank(a) - rank(b));

  const invite = async (e: Event) => {
    e.preventDefault();
    if (!invitee) return;
    setError(null);
    try {
      await api('POST', `/conversations/${conv.id}/members`, { account_ids: [invitee] });
      onChange(await api<Conversation>('GET', `/conversations/${conv.id}`));
      setInvitee('');
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="details-members">
      <h3 id="details-members">{t('shell.chat.members', { count: conv.member_ids.length })}</h3>
      <ul class="members" aria-label={t('shell.details.members')}>
        {members.map((id) => (
          <Member key={id} id={id} you={id === me.id} role={roleOf(id)} />
        ))}
      </ul>
      {candidates.length > 0 && (
        <form onSubmit={invite} class="row">
          <label for="invitee" class="visually-hidden">
            {t('shell.details.inviteLabel')}
          </label>
          <select id="invitee" value={invitee} onChange={(e) => setInvitee(e.currentTarget.value)}>
            <option value="">{t('shell.details.choose')}</option>
            {candidates.map((c) => (
              <option key={c.id} value={c.id}>
                {t('shell.details.memberName', { name: c.display_name, handle: c.handle })}
              </option>
            ))}
          </select>
          <button type="submit" disabled={!invitee}>
            {t('shell.details.invite')}
          </button>
        </form>
      )}
      <ErrorBox error={error} />
    </section>
  );
}

function Member({ id, you, role }: { id: string; you: boolean; role: string }) {
  const [name, setName] = useState('');
  const [plain, setPlain] = useState('');
  const url = useAvatarURL(id);
  useEffect(() => {
    let live = true;
    profile(id).then(
      (p) => {
        if (!live) return;
        setPlain(p.display_name);
        setName(t('shell.details.memberName', { name: p.display_name, handle: p.handle }));
      },
      (e) => live && setName(goneAccount(e) ? t('shell.deletedAccount') : t('shell.someone')),
    );
    return () => {
      live = false;
    };
  }, [id]);
  return (
    <li>
      <Avatar seed={id} name={plain || name || '?'} url={url} size="small" />
      <span class="member-name">{name || '…'}</span>
      {you && <span class="pill">{t('shell.details.you')}</span>}
      {role === 'owner' && <span class="pill role">{t('shell.details.owner')}</span>}
      {role === 'admin' && <span class="pill role">{t('shell.details.admin')}</span>}
    </li>
  );
}

function Leave({ conv }: { conv: Conversation }) {
  const { me } = useSession();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const button = useRef<HTMLButtonElement>(null);
  const leave = async () => {
    setBusy(true);
    setError(null);
    try {
      await api('DELETE', `/conversations/${conv.id}/members/${me.id}`);
      setAsking(false);
      navigate('/');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" class="danger details-leave" ref={button} aria-haspopup="dialog" onClick={() => setAsking(true)}>
        {t('shell.details.leave')}
      </button>
      {asking && (
        <ConfirmDialog
          id="leave-group"
          title={t('shell.details.leaveTitle', { title: conv.title || t('shell.group') })}
          confirmLabel={t('shell.details.leaveConfirm')}
          busyLabel={t('shell.details.leaving')}
          busy={busy}
          error={error}
          onConfirm={leave}
          onCancel={() => setAsking(false)}
          focusAfter={button}
        >
          <p>{t('shell.details.leaveText')}</p>
        </ConfirmDialog>
      )}
    </>
  );
}

/** Mute turns push notices for this conversation off or on for the reader; a mention still comes through. */
function Mute({ conv, onChange }: { conv: Conversation; onChange: (c: Conversation) => void }) {
  const muted = !!(conv as { muted?: boolean }).muted;
  const [error, setError] = useState<unknown>(null);
  const toggle = async (on: boolean) => {
    setError(null);
    try {
      const r = await muteConversation(conv.id, on);
      onChange({ ...conv, muted: r.muted } as Conversation);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="details-mute">
      <label class="switch-row">
        <input type="checkbox" checked={muted} onChange={(e) => toggle(e.currentTarget.checked)} aria-describedby={`mute-hint-${conv.id}`} />{' '}
        {t('messages.muted')}
      </label>
      <p class="muted small" id={`mute-hint-${conv.id}`}>
        {t('messages.mutedHint')}
      </p>
      <ErrorBox error={error} />
    </section>
  );
}
