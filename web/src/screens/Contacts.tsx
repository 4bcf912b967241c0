// Contacts: send a request by account ID with a note, answer the requests
// others sent, see the contact list (chat, remove, block) and the blocked
// accounts (unblock). It reloads when the stream reports a request.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, Contact, ContactRequest, List, profile, startDirect } from '../api';
import { useSession } from '../app';
import { navigate } from '../router';
import { describedBy, ErrorBox, Field } from '../ui';
import { t } from '../i18n';

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
        <h2 id="contacts-h">{t('contacts.yourContacts')}</h2>
        {contacts === null ? (
          <p>{t('contacts.loading')}</p>
        ) : contacts.length === 0 ? (
          <p class="empty">{t('contacts.noContactsYetSend')}</p>
        ) : (
          <ul class="people" aria-label={t('contacts.yourContacts')}>
            {contacts.map((c) => (
              <li key={c.id}>
                <span class="person">
                  {c.display_name} <span class="muted">@{c.handle}</span>
                </span>
                <span class="actions">
                  <button type="button" class="primary" onClick={() => chat(c.id)} aria-label={t('contacts.chatWithDisplayName', { display_name: c.display_name })}>
                    {t('contacts.chat')}
                  </button>
                  <button type="button" onClick={() => act(() => api('DELETE', `/contacts/${c.id}`))} aria-label={t('contacts.removeDisplayNameFrom', { display_name: c.display_name })}>
                    {t('contacts.remove')}
                  </button>
                  <button type="button" onClick={() => act(() => api('POST', '/blocks', { account_id: c.id }))} aria-label={t('contacts.blockDisplayName', { display_name: c.display_name })}>
                    {t('contacts.block')}
                  </button>
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="add-h">
        <h2 id="add-h">{t('contacts.addAContact')}</h2>
        <form onSubmit={request}>
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
                <li key={r.id}>
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
    <li>
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
    <li>
      <span class="person">
        <Name id={id} />
      </span>
      <button type="button" onClick={onUnblock} aria-label={t('contacts.unblockName', { name })}>
        {t('contacts.unblock')}
      </button>
    </li>
  );
}
