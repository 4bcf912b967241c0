// Contacts: send a request by account ID with a note, answer the requests
// others sent, see the contact list (chat, remove, block) and the blocked
// accounts (unblock). It reloads when the stream reports a request.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, Contact, ContactRequest, List, profile, startDirect } from '../api';
import { useSession } from '../app';
import { navigate } from '../router';
import { describedBy, ErrorBox, Field } from '../ui';

const refreshOn = new Set(['contact.request', 'contact.accepted']);

/** Name shows an account's display name, fetched once per page load. */
export function Name({ id }: { id: string }) {
  const [name, setName] = useState('');
  useEffect(() => {
    let live = true;
    profile(id).then(
      (p) => live && setName(`${p.display_name} (@${p.handle})`),
      () => live && setName('Someone'),
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
    profile(id).then((p) => setName(p.display_name), () => setName('someone'));
  }, [id]);
  return name || 'someone';
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
    if (!/^\d{1,20}$/.test(id)) return setWhoError('An account ID is a number, like 384509780243079168.');
    if (id === me.id) return setWhoError('That is your own ID. Enter the other person’s.');
    setWhoError('');
    try {
      const r = await api<ContactRequest>('POST', '/contacts/requests', { account_id: id, note: note.trim() });
      setSent(r.status === 'accepted' ? 'They had asked you already: you are now contacts.' : 'Request sent. You become contacts when they accept.');
      setWho('');
      setNote('');
      await load();
    } catch (err) {
      const f = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
      if (f.account_id) setWhoError(`The account ID ${f.account_id}.`);
      else setSendError(err);
    }
  };

  const chat = (id: string) =>
    act(async () => {
      const c = await startDirect(id);
      navigate(`/chats/${c.id}`);
    });

  const hint = 'They find it under Settings → Your account ID.';
  return (
    <main class="page narrow">
      <h1>Contacts</h1>
      <ErrorBox error={error} />

      <section aria-labelledby="req-in-h">
        <h2 id="req-in-h">Requests for you</h2>
        {incoming === null ? (
          <p>Loading…</p>
        ) : incoming.length === 0 ? (
          <p class="empty">No requests waiting.</p>
        ) : (
          <ul class="people" aria-label="Requests for you">
            {incoming.map((r) => (
              <IncomingRow key={r.id} r={r} onAccept={() => act(() => api('POST', `/contacts/requests/${r.id}/accept`))} onDecline={() => act(() => api('POST', `/contacts/requests/${r.id}/decline`))} />
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="contacts-h">
        <h2 id="contacts-h">Your contacts</h2>
        {contacts === null ? (
          <p>Loading…</p>
        ) : contacts.length === 0 ? (
          <p class="empty">No contacts yet. Send a request below with the other person’s account ID.</p>
        ) : (
          <ul class="people" aria-label="Your contacts">
            {contacts.map((c) => (
              <li key={c.id}>
                <span class="person">
                  {c.display_name} <span class="muted">@{c.handle}</span>
                </span>
                <span class="actions">
                  <button type="button" class="primary" onClick={() => chat(c.id)} aria-label={`Chat with ${c.display_name}`}>
                    Chat
                  </button>
                  <button type="button" onClick={() => act(() => api('DELETE', `/contacts/${c.id}`))} aria-label={`Remove ${c.display_name} from contacts`}>
                    Remove
                  </button>
                  <button type="button" onClick={() => act(() => api('POST', '/blocks', { account_id: c.id }))} aria-label={`Block ${c.display_name}`}>
                    Block
                  </button>
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="add-h">
        <h2 id="add-h">Add a contact</h2>
        <form onSubmit={request}>
          <Field id="contact-id" label="Their account ID" hint={hint} error={whoError}>
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
          <Field id="contact-note" label="Note (optional)">
            <input id="contact-note" maxLength={200} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </Field>
          <ErrorBox error={sendError} />
          <div class="row">
            <button type="submit" class="primary">
              Send request
            </button>
            <span role="status">{sent}</span>
          </div>
        </form>
        {outgoing.length > 0 && (
          <>
            <h3>Waiting for an answer</h3>
            <ul class="people" aria-label="Your requests">
              {outgoing.map((r) => (
                <li key={r.id}>
                  <span class="person">
                    <Name id={r.to_id} />
                  </span>
                  <span class="muted">waiting</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>

      {blocked.length > 0 && (
        <section aria-labelledby="blocked-h">
          <h2 id="blocked-h">Blocked</h2>
          <ul class="people" aria-label="Blocked">
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
        <button type="button" class="primary" onClick={onAccept} aria-label={`Accept ${name}`}>
          Accept
        </button>
        <button type="button" onClick={onDecline} aria-label={`Decline ${name}`}>
          Decline
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
      <button type="button" onClick={onUnblock} aria-label={`Unblock ${name}`}>
        Unblock
      </button>
    </li>
  );
}
