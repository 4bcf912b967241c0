// Contacts: find someone by handle or phone number (or take their account
// ID) and send a request with a note, answer the requests others sent, see
// the contact list (chat, remove, block — both asked first), make invite
// links, and see the blocked accounts (unblock). It reloads when the
// stream reports a request.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, Contact, ContactRequest, List, Profile, profile, startDirect } from '../api';
import { useSession } from '../app';
import { Avatar } from '../avatar';
import { ConfirmDialog } from '../confirm';
import { lookup } from '../people';
import { navigate } from '../router';
import { describedBy, ErrorBox, Field } from '../ui';
import { t } from '../i18n';
import { MyInvites, ProfileCard } from './Invites';

const refreshOn = new Set(['contact.request', 'contact.accepted']);

/** Name shows an account's display name, fetched once per page load. */
export function Name({ id }: { id: string }) {
  const [name, setName] = useState('');
  useEffect(() => {
    let live = true;
    profile(id).then(
      (p) => live && setName(`${p.display_name} (@${p.handle})`),
      () => live && setName(t('common.someone')),
    );
    return () => {
      live = false;
    };
  }, [id]);
  return <span>{name || '…'}</span>;
}

/** PersonAvatar shows the photo of an account known only by its ID. */
function PersonAvatar({ id }: { id: string }) {
  const [p, setP] = useState<Profile | null>(null);
  useEffect(() => {
    let live = true;
    profile(id).then(
      (v) => live && setP(v),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [id]);
  return <Avatar name={p?.display_name ?? ''} url={p?.avatar_url} size="small" />;
}

function useName(id: string): string {
  const [name, setName] = useState('');
  useEffect(() => {
    profile(id).then((p) => setName(p.display_name), () => setName(t('contacts.someone')));
  }, [id]);
  return name || t('contacts.someone');
}

export function Contacts() {
  const { me, stream } = useSession();
  const [incoming, setIncoming] = useState<ContactRequest[] | null>(null);
  const [outgoing, setOutgoing] = useState<ContactRequest[]>([]);
  const [contacts, setContacts] = useState<Contact[] | null>(null);
  const [blocked, setBlocked] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [who, setWho] = useState('');
  const [note, setNote] = useState('');
  const [whoError, setWhoError] = useState('');
  const [sendError, setSendError] = useState<unknown>(null);
  const [sent, setSent] = useState('');
  const [asking, setAsking] = useState<{ kind: 'remove' | 'block'; c: Contact } | null>(null);
  const [askBusy, setAskBusy] = useState(false);
  const [askError, setAskError] = useState<unknown>(null);
  const contactsHeading = useRef<HTMLHeadingElement>(null);

  const load = async () => {
    try {
      const [inc, out, cs, bs] = await Promise.all([
        api<List<ContactRequest>>('GET', '/contacts/requests?direction=incoming'),
        api<List<ContactRequest>>('GET', '/contacts/requests?direction=outgoing'),
        api<List<Contact>>('GET', '/contacts'),
        api<List<{ account_id: string }>>('GET', '/blocks'),
      ]);
      setIncoming(inc.items.filter((r) => r.status === 'pending'));
      setOutgoing(out.items.filter((r) => r.status === 'pending'));
      setContacts(cs.items);
      setBlocked(bs.items.map((b) => b.account_id));
      setError(null);
    } catch (e) {
      setError(e);
    }
  };

  useEffect(() => {
    load();
    return stream.onFrame((f) => refreshOn.has(f.type) && load());
  }, [stream]);

  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    }
    await load();
  };

  const request = async (e: Event) => {
    e.preventDefault();
    setSendError(null);
    setSent('');
    const id = who.trim();
    if (!/^\d{1,20}$/.test(id)) return setWhoError(t('contacts.anAccountIdIs'));
    if (id === me.id) return setWhoError(t('contacts.thatIsYourOwn'));
    setWhoError('');
    try {
      const r = await api<ContactRequest>('POST', '/contacts/requests', { account_id: id, note: note.trim() });
      setSent(r.status === 'accepted' ? t('contacts.theyHadAskedYou') : t('contacts.requestSentYouBecome'));
      setWho('');
      setNote('');
      await load();
    } catch (err) {
      const f = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
      if (f.account_id) setWhoError(t('contacts.accountIdProblem', { problem: f.account_id }));
      else setSendError(err);
    }
  };

  const chat = (id: string) =>
    act(async () => {
      const c = await startDirect(id);
      navigate(`/chats/${c.id}`);
    });

  const confirmAsked = async () => {
    if (!asking) return;
    setAskBusy(true);
    setAskError(null);
    try {
      if (asking.kind === 'remove') await api('DELETE', `/contacts/${asking.c.id}`);
      else await api('POST', '/blocks', { account_id: asking.c.id });
      setAsking(null);
      await load();
    } catch (e) {
      setAskError(e);
    } finally {
      setAskBusy(false);
    }
  };
  const ask = (kind: 'remove' | 'block', c: Contact) => {
    setAskError(null);
    setAsking({ kind, c });
  };

  const hint = t('contacts.theyFindItUnder');
  return (
    <main class="page narrow">
      <h1>{t('contacts.contacts')}</h1>
      <ErrorBox error={error} />

      <section aria-labelledby="req-in-h">
        <h2 id="req-in-h">{t('contacts.requestsForYou')}</h2>
        {incoming === null ? (
          <p>{t('contacts.loading')}</p>
        ) : incoming.length === 0 ? (
          <p class="empty">{t('contacts.noRequestsWaiting')}</p>
        ) : (
          <ul class="people" aria-label={t('contacts.requestsForYou')}>
            {incoming.map((r) => (
              <IncomingRow key={r.id} r={r} onAccept={() => act(() => api('POST', `/contacts/requests/${r.id}/accept`))} onDecline={() => act(() => api('POST', `/contacts/requests/${r.id}/decline`))} />
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="contacts-h">
        <h2 id="contacts-h" ref={contactsHeading} tabIndex={-1}>
          {t('contacts.yourContacts')}
        </h2>
        {contacts === null ? (
          <p>{t('contacts.loading')}</p>
        ) : contacts.length === 0 ? (
          <p class="empty">{t('contacts.noContactsYetSend')}</p>
        ) : (
          <ul class="people" aria-label={t('contacts.yourContacts')}>
            {contacts.map((c) => (
              <li key={c.id} class="contact-row">
                <Avatar name={c.display_name} url={c.avatar_url} size="small" />
                <span class="person">
                  {c.display_name} <span class="muted">@{c.handle}</span>
                </span>
                <span class="actions">
                  <button type="button" class="primary" onClick={() => chat(c.id)} aria-label={t('contacts.chatWithDisplayName', { display_name: c.display_name })}>
                    {t('contacts.chat')}
                  </button>
                  <button type="button" onClick={() => ask('remove', c)} aria-label={t('contacts.removeDisplayNameFrom', { display_name: c.display_name })}>
                    {t('contacts.remove')}
                  </button>
                  <button type="button" onClick={() => ask('block', c)} aria-label={t('contacts.blockDisplayName', { display_name: c.display_name })}>
                    {t('contacts.block')}
                  </button>
                </span>
              </li>
            ))}
          </ul>
        )}
        {asking && (
          <ConfirmDialog
            id="contact-confirm"
            title={
              asking.kind === 'remove'
                ? t('people.confirm.removeTitle', { name: asking.c.display_name })
                : t('people.confirm.blockTitle', { name: asking.c.display_name })
            }
            confirmLabel={asking.kind === 'remove' ? t('people.confirm.remove') : t('people.confirm.block')}
            busyLabel={asking.kind === 'remove' ? t('people.confirm.removing') : t('people.confirm.blocking')}
            busy={askBusy}
            error={askError}
            onConfirm={confirmAsked}
            onCancel={() => setAsking(null)}
            focusAfter={contactsHeading}
          >
            <p>{asking.kind === 'remove' ? t('people.confirm.removeBody') : t('people.confirm.blockBody')}</p>
          </ConfirmDialog>
        )}
      </section>

      <section aria-labelledby="add-h">
        <h2 id="add-h">{t('contacts.addAContact')}</h2>
        <FindPerson me={me.id} onSent={load} />
        <h3 id="add-id-h">{t('people.find.byId')}</h3>
        <form onSubmit={request} aria-labelledby="add-id-h">
          <Field id="contact-id" label={t('contacts.theirAccountId')} hint={hint} error={whoError}>
            <input
              id="contact-id"
              inputMode="numeric"
              autocomplete="off"
              class="mono"
              required
              value={who}
              onInput={(e) => setWho(e.currentTarget.value)}
              aria-invalid={whoError ? true : undefined}
              aria-describedby={describedBy('contact-id', whoError, hint)}
            />
          </Field>
          <Field id="contact-note" label={t('contacts.noteOptional')}>
            <input id="contact-note" maxLength={200} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </Field>
          <ErrorBox error={sendError} />
          <div class="row">
            <button type="submit" class="primary">
              {t('contacts.sendRequest')}
            </button>
            <span role="status">{sent}</span>
          </div>
        </form>
        {outgoing.length > 0 && (
          <>
            <h3>{t('contacts.waitingForAnAnswer')}</h3>
            <ul class="people" aria-label={t('contacts.yourRequests')}>
              {outgoing.map((r) => (
                <li key={r.id} class="contact-row">
                  <PersonAvatar id={r.to_id} />
                  <span class="person">
                    <Name id={r.to_id} />
                  </span>
                  <span class="muted">{t('contacts.waiting')}</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>

      <MyInvites />

      {blocked.length > 0 && (
        <section aria-labelledby="blocked-h">
          <h2 id="blocked-h">{t('contacts.blocked')}</h2>
          <ul class="people" aria-label={t('contacts.blocked')}>
            {blocked.map((id) => (
              <BlockedRow key={id} id={id} onUnblock={() => act(() => api('DELETE', `/blocks/${id}`))} />
            ))}
          </ul>
        </section>
      )}
    </main>
  );
}

function IncomingRow({ r, onAccept, onDecline }: { r: ContactRequest; onAccept: () => void; onDecline: () => void }) {
  const name = useName(r.from_id);
  return (
    <li class="contact-row">
      <PersonAvatar id={r.from_id} />
      <span class="person">
        <Name id={r.from_id} />
        {r.note && <span class="note">“{r.note}”</span>}
      </span>
      <span class="actions">
        <button type="button" class="primary" onClick={onAccept} aria-label={t('contacts.acceptName', { name })}>
          {t('contacts.accept')}
        </button>
        <button type="button" onClick={onDecline} aria-label={t('contacts.declineName', { name })}>
          {t('contacts.decline')}
        </button>
      </span>
    </li>
  );
}

function BlockedRow({ id, onUnblock }: { id: string; onUnblock: () => void }) {
  const name = useName(id);
  return (
    <li class="contact-row">
      <PersonAvatar id={id} />
      <span class="person">
        <Name id={id} />
      </span>
      <button type="button" onClick={onUnblock} aria-label={t('contacts.unblockName', { name })}>
        {t('contacts.unblock')}
      </button>
    </li>
  );
}

/**
 * FindPerson looks someone up by exact handle or by phone number and sends
 * them a contact request. A miss is worded the same whatever its reason, as
 * the server answers it: nobody with that handle or number, or someone who
 * does not let people find them that way.
 */
function FindPerson({ me, onSent }: { me: string; onSent: () => void }) {
  const [by, setBy] = useState<'handle' | 'phone'>('handle');
  const [value, setValue] = useState('');
  const [fieldError, setFieldError] = useState('');
  const [found, setFound] = useState<Profile | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  const [sent, setSent] = useState('');

  const reset = () => {
    setFound(null);
    setMissing(false);
    setError(null);
    setFieldError('');
    setSent('');
  };

  const find = async (e: Event) => {
    e.preventDefault();
    reset();
    let q = value.trim();
    if (by === 'handle') q = q.replace(/^@/, '');
    if (!q) return setFieldError(by === 'handle' ? t('people.find.handleEmpty') : t('people.find.phoneEmpty'));
    if (by === 'phone' && !q.startsWith('+')) return setFieldError(t('people.find.phonePlus'));
    setBusy(true);
    try {
      setFound(await lookup(by, q));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setMissing(true);
      else if (err instanceof ApiError && err.code === 'invalid_request' && err.fields()[by]) {
        setFieldError(by === 'handle' ? t('people.find.handleBad') : t('people.find.phoneBad'));
      } else setError(err);
    } finally {
      setBusy(false);
    }
  };

  const send = async (e: Event) => {
    e.preventDefault();
    if (!found) return;
    setError(null);
    try {
      const r = await api<ContactRequest>('POST', '/contacts/requests', { account_id: found.id, note: note.trim() });
      setSent(r.status === 'accepted' ? t('people.find.nowContacts') : t('people.find.sent'));
      setNote('');
      onSent();
    } catch (err) {
      setError(err);
    }
  };

  const hint = by === 'handle' ? t('people.find.handleHint') : t('people.find.phoneHint');
  return (
    <div class="find-person">
      <form onSubmit={find}>
        <fieldset class="find-by">
          <legend>{t('people.find.by')}</legend>
          {(['handle', 'phone'] as const).map((b) => (
            <label key={b} class="choice">
              <input
                type="radio"
                name="find-by"
                value={b}
                checked={by === b}
                onChange={() => {
                  setBy(b);
                  setValue('');
                  reset();
                }}
              />{' '}
              {b === 'handle' ? t('people.find.byHandle') : t('people.find.byPhone')}
            </label>
          ))}
        </fieldset>
        <Field id="find-value" label={by === 'handle' ? t('people.find.handle') : t('people.find.phone')} hint={hint} error={fieldError}>
          <div class="row">
            <input
              id="find-value"
              inputMode={by === 'phone' ? 'tel' : 'text'}
              autocomplete="off"
              autoCapitalize="none"
              spellcheck={false}
              maxLength={by === 'phone' ? 24 : 31}
              value={value}
              onInput={(e) => setValue(e.currentTarget.value)}
              aria-invalid={fieldError ? true : undefined}
              aria-describedby={describedBy('find-value', fieldError, hint)}
            />
            <button type="submit" disabled={busy} aria-busy={busy}>
              {t('people.find.find')}
            </button>
          </div>
        </Field>
      </form>
      <div aria-live="polite">
        {missing && (
          <p class="notice" role="status">
            {by === 'handle' ? t('people.find.notFoundHandle') : t('people.find.notFoundPhone')}
          </p>
        )}
        {found && (
          <div class="found">
            <ProfileCard p={found} />
            {found.id === me ? (
              <p>{t('people.find.thatIsYou')}</p>
            ) : sent ? (
              <p role="status">{sent}</p>
            ) : (
              <form onSubmit={send}>
                <Field id="find-note" label={t('people.find.note')}>
                  <input id="find-note" maxLength={200} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
                </Field>
                <button type="submit" class="primary">
                  {t('people.find.send')}
                </button>
              </form>
            )}
          </div>
        )}
        <ErrorBox error={error} />
      </div>
    </div>
  );
}
