// Shown when the operator published terms that need consent: the user
// reads and accepts them, or signs out (leaving is always possible).
import { useEffect, useState } from 'preact/hooks';
import { api, Terms } from '../api';
import { useSession } from '../app';
import { ErrorBox } from '../ui';
import { t } from '../i18n';

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
      <h1>{t('acceptTerms.plazasTermsHaveChanged')}</h1>
      <p>{t('acceptTerms.readTheNewVersion')}</p>
      {terms && (
        <section class="terms" aria-labelledby="terms-title">
          <h2 id="terms-title">
            {terms.title} <span class="muted">{t('acceptTerms.version', { version: terms.version })}</span>
          </h2>
          <div class="terms-body" tabIndex={0} aria-label={t('acceptTerms.termsOfServiceText')}>
            {terms.body}
          </div>
        </section>
      )}
      <form onSubmit={submit}>
        <div class="check">
          <input id="reaccept" type="checkbox" checked={accept} onChange={(e) => setAccept(e.currentTarget.checked)} />
          <label for="reaccept">{t('acceptTerms.iHaveReadAnd')}</label>
        </div>
        <ErrorBox error={error} />
        <div class="row">
          <button class="primary" type="submit" disabled={!terms || !accept}>
            {t('acceptTerms.acceptAndContinue')}
          </button>
          <button type="button" onClick={signOut}>
            {t('acceptTerms.signOut')}
          </button>
        </div>
      </form>
    </main>
  );
}
