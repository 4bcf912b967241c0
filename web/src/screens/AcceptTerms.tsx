// Shown when the operator published terms that need consent: the user
// reads and accepts them, or signs out (leaving is always possible).
import { useEffect, useState } from 'preact/hooks';
import { api, Terms } from '../api';
import { useSession } from '../app';
import { ErrorBox } from '../ui';

export function AcceptTerms({ onAccepted }: { onAccepted: () => void }) {
  const { signOut, setMe } = useSession();
  const [terms, setTerms] = useState<Terms | null>(null);
  const [accept, setAccept] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api<Terms>('GET', '/terms').then(setTerms, setError);
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!terms || !accept) return;
    try {
      await api('POST', '/me/consents', { version: terms.version });
      setMe(await api('GET', '/me'));
      onAccepted();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <main class="page narrow">
      <h1>Plaza's terms have changed</h1>
      <p>Read the new version and accept it to keep using Plaza. You can also sign out.</p>
      {terms && (
        <section class="terms" aria-labelledby="terms-title">
          <h2 id="terms-title">
            {terms.title} <span class="muted">(version {terms.version})</span>
          </h2>
          <div class="terms-body" tabIndex={0} aria-label="Terms of service text">
            {terms.body}
          </div>
        </section>
      )}
      <form onSubmit={submit}>
        <div class="check">
          <input id="reaccept" type="checkbox" checked={accept} onChange={(e) => setAccept(e.currentTarget.checked)} />
          <label for="reaccept">I have read and accept these terms</label>
        </div>
        <ErrorBox error={error} />
        <div class="row">
          <button class="primary" type="submit" disabled={!terms || !accept}>
            Accept and continue
          </button>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </form>
    </main>
  );
}
