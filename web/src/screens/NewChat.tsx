// Start a direct chat with someone by their account ID (shown on their
// settings screen).
import { useState } from 'preact/hooks';
import { api, Conversation, profile } from '../api';
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
      <form onSubmit={submit}>
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
        <ErrorBox error={error} />
        <button class="primary" type="submit" disabled={busy}>
          {busy ? t('newChat.starting') : t('newChat.startChat')}
        </button>
      </form>
    </main>
  );
}
