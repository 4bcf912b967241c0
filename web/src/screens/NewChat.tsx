// Start a direct chat with someone by their account ID (shown on their
// settings screen).
import { useState } from 'preact/hooks';
import { api, Conversation, profile } from '../api';
import { useSession } from '../app';
import { navigate } from '../router';
import { describedBy, ErrorBox, Field } from '../ui';

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
    if (!/^\d{1,20}$/.test(want)) return setFieldError('An account ID is a number, like 384509780243079168.');
    if (want === me.id) return setFieldError('That is your own ID. Enter the other person’s.');
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

  const hint = 'They find it under Settings → Your account ID.';
  return (
    <main class="page narrow">
      <h1>Start a chat</h1>
      <form onSubmit={submit}>
        <Field id="peer-id" label="Their account ID" hint={hint} error={fieldError}>
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
          {busy ? 'Starting…' : 'Start chat'}
        </button>
      </form>
    </main>
  );
}
