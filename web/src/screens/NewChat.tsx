// Start a direct chat with someone by their handle (looked up, so it
// answers only for people who let themselves be found that way) or by
// their account ID (shown on their settings screen).
import { useState } from 'preact/hooks';
import { api, ApiError, Conversation, profile } from '../api';
import { lookup } from '../people';
import { useSession } from '../app';
import { navigate } from '../router';
import { describedBy, ErrorBox, Field } from '../ui';
import { t } from '../i18n';

export function NewChat() {
  const { me } = useSession();
  const [id, setId] = useState('');
  const [fieldError, setFieldError] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [handle, setHandle] = useState('');
  const [handleError, setHandleError] = useState('');

  const byHandle = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setHandleError('');
    const want = handle.trim().replace(/^@/, '');
    if (!want) return setHandleError(t('people.find.handleEmpty'));
    setBusy(true);
    try {
      const p = await lookup('handle', want);
      if (p.id === me.id) return setHandleError(t('people.find.thatIsYou'));
      const conv = await api<Conversation>('POST', '/conversations', { kind: 'direct', member_ids: [p.id] });
      navigate(`/chats/${conv.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setHandleError(t('people.find.notFoundHandle'));
      else if (err instanceof ApiError && err.code === 'invalid_request' && err.fields().handle) setHandleError(t('people.find.handleBad'));
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const want = id.trim();
    if (!/^\d{1,20}$/.test(want)) return setFieldError(t('newChat.anAccountIdIs'));
    if (want === me.id) return setFieldError(t('newChat.thatIsYourOwn'));
    setFieldError('');
    setBusy(true);
    try {
      await profile(want); // a clear "not found" before trying to create
      const conv = await api<Conversation>('POST', '/conversations', { kind: 'direct', member_ids: [want] });
      navigate(`/chats/${conv.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const hint = t('newChat.theyFindItUnder');
  return (
    <main class="page narrow">
      <h1>{t('newChat.startAChat')}</h1>
      <form onSubmit={byHandle}>
        <Field id="peer-handle" label={t('people.find.handle')} hint={t('people.find.handleHint')} error={handleError}>
          <input
            id="peer-handle"
            autocomplete="off"
            autoCapitalize="none"
            spellcheck={false}
            maxLength={31}
            value={handle}
            onInput={(e) => setHandle(e.currentTarget.value)}
            aria-invalid={handleError ? true : undefined}
            aria-describedby={describedBy('peer-handle', handleError, t('people.find.handleHint'))}
          />
        </Field>
        <button class="primary" type="submit" disabled={busy}>
          {busy ? t('newChat.starting') : t('people.find.chat')}
        </button>
      </form>
      <h2 id="peer-id-h">{t('people.find.byId')}</h2>
      <form onSubmit={submit} aria-labelledby="peer-id-h">
        <Field id="peer-id" label={t('newChat.theirAccountId')} hint={hint} error={fieldError}>
          <input
            id="peer-id"
            inputMode="numeric"
            autocomplete="off"
            class="mono"
            value={id}
            onInput={(e) => setId(e.currentTarget.value)}
            aria-invalid={fieldError ? true : undefined}
            aria-describedby={describedBy('peer-id', fieldError, hint)}
            required
          />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? t('newChat.starting') : t('newChat.startChat')}
        </button>
      </form>
      <ErrorBox error={error} />
    </main>
  );
}
