// Create a group: a title and the contacts to add.
import { useEffect, useState } from 'preact/hooks';
import { api, Contact, Conversation, List } from '../api';
import { linkHandler, navigate } from '../router';
import { describedBy, ErrorBox, Field } from '../ui';
import { t } from '../i18n';

export function NewGroup() {
  const [contacts, setContacts] = useState<Contact[] | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [title, setTitle] = useState('');
  const [titleError, setTitleError] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<List<Contact>>('GET', '/contacts').then((l) => setContacts(l.items), setError);
  }, []);

  const toggle = (id: string) =>
    setPicked((cur) => {
      const next = new Set(cur);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!title.trim()) return setTitleError(t('newGroup.giveTheGroupA'));
    setTitleError('');
    setBusy(true);
    try {
      const c = await api<Conversation>('POST', '/conversations', { kind: 'group', title: title.trim(), member_ids: [...picked] });
      navigate(`/chats/${c.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="page narrow">
      <h1>{t('newGroup.newGroup')}</h1>
      <form onSubmit={submit}>
        <Field id="group-title" label={t('newGroup.groupTitle')} error={titleError}>
          <input
            id="group-title"
            maxLength={64}
            value={title}
            onInput={(e) => setTitle(e.currentTarget.value)}
            aria-invalid={titleError ? true : undefined}
            aria-describedby={describedBy('group-title', titleError)}
          />
        </Field>
        <fieldset class="plain">
          <legend>{t('newGroup.members')}</legend>
          {contacts === null ? (
            !error && <p>{t('newGroup.loading')}</p>
          ) : contacts.length === 0 ? (
            <p class="empty">
              {t('newGroup.youHaveNoContacts')}{' '}
              <a href="/contacts" onClick={linkHandler}>
                {t('newGroup.contacts')}
              </a>
              {t('newGroup.youCanInviteThem')}
            </p>
          ) : (
            <ul class="picker">
              {contacts.map((c) => (
                <li key={c.id} class="check">
                  <input type="checkbox" id={`pick-${c.id}`} checked={picked.has(c.id)} onChange={() => toggle(c.id)} />
                  <label for={`pick-${c.id}`}>
                    {c.display_name} <span class="muted">@{c.handle}</span>
                  </label>
                </li>
              ))}
            </ul>
          )}
        </fieldset>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('newGroup.creating') : t('newGroup.createGroup')}
        </button>
      </form>
    </main>
  );
}
