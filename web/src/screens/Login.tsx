// Sign-in with handle and password; after asking for the account's
// deletion (which may end the session) it says when that will happen.
import { useState } from 'preact/hooks';
import { api, ApiError, Me, setToken, SignedIn } from '../api';
import { linkHandler } from '../router';
import { ErrorBox, Field } from '../ui';
import { longDate } from '../moderation';
import { deletionNoticeKey } from './YourData';
import { t } from '../i18n';

/** deletionNotice returns the date a deletion was scheduled for in this tab, if any. */
function deletionNotice(): string {
  try {
    return sessionStorage.getItem(deletionNoticeKey) ?? '';
  } catch {
    return '';
  }
}

export function Login({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [handle, setHandle] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [deletion] = useState(deletionNotice);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const res = await api<SignedIn>('POST', '/sessions', { handle: handle.trim(), password });
      setToken(res.token);
      try {
        sessionStorage.removeItem(deletionNoticeKey);
      } catch {
        // Nothing to forget without storage.
      }
      onSignedIn(res.account);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        setError(new ApiError(401, 'bad_credentials', t('login.theHandleOrThe')));
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="page narrow">
      <h1>{t('login.signIn')}</h1>
      {deletion && (
        <p class="notice" role="status">
          {t('login.yourAccountWillBe', { date: longDate(deletion) })}
        </p>
      )}
      <form onSubmit={submit}>
        <Field id="login-handle" label={t('login.handle')}>
          <input
            id="login-handle"
            name="handle"
            autocomplete="username"
            autocapitalize="none"
            spellcheck={false}
            value={handle}
            onInput={(e) => setHandle(e.currentTarget.value)}
            required
          />
        </Field>
        <Field id="login-password" label={t('login.password')}>
          <input
            id="login-password"
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
          />
        </Field>
        <ErrorBox error={error} />
        <button class="primary" type="submit" disabled={busy}>
          {busy ? t('login.signingIn') : t('login.signIn')}
        </button>
      </form>
      <p>
        {t('login.newToPlaza')}{' '}
        <a href="/register" onClick={linkHandler}>
          {t('login.createAnAccount')}
        </a>
      </p>
      <footer class="page-footer">
        <a href="/transparency" onClick={linkHandler}>
          {t('login.transparencyReport')}
        </a>
      </footer>
    </main>
  );
}
