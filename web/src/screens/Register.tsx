// Registration: the current terms with an accept box, handle, display
// name, password and birth date. Server refusals appear beside the field
// they concern.
import { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, Me, setToken, SignedIn, Terms } from '../api';
import { linkHandler } from '../router';
import { describedBy, ErrorBox, Field } from '../ui';
import { t } from '../i18n';

const fieldNames = ['handle', 'display_name', 'password', 'birth_date', 'accepted_terms_version'] as const;

/**
 * Register opens an account; with setupToken (the first-run link's) it
 * registers the server's first administrator instead.
 */
export function Register({ onSignedIn, setupToken }: { onSignedIn: (me: Me) => void; setupToken?: string }) {
  const [terms, setTerms] = useState<Terms | null>(null);
  const [termsError, setTermsError] = useState<unknown>(null);
  const [form, setForm] = useState({ handle: '', display_name: '', password: '', birth_date: '', accept: false });
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [setupProblem, setSetupProblem] = useState('');

  const loadTerms = () =>
    api<Terms>('GET', '/terms')
      .then((t) => {
        setTerms(t);
        setTermsError(null);
      })
      .catch(setTermsError);
  useEffect(() => {
    loadTerms();
  }, []);

  const set = (k: keyof typeof form) => (e: Event) => {
    const el = e.currentTarget as HTMLInputElement;
    setForm({ ...form, [k]: el.type === 'checkbox' ? el.checked : el.value });
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!terms) return;
    const local: Record<string, string> = {};
    if (!form.accept) local.accepted_terms_version = t('register.acceptTheTermsTo');
    if (!form.birth_date) local.birth_date = t('register.enterYourBirthDate');
    setFields(local);
    setError(null);
    setSetupProblem('');
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      const res = await api<SignedIn>('POST', setupToken !== undefined ? '/setup' : '/accounts', {
        ...(setupToken !== undefined ? { token: setupToken } : {}),
        handle: form.handle.trim(),
        display_name: form.display_name,
        password: form.password,
        birth_date: form.birth_date,
        accepted_terms_version: terms.version,
      });
      setToken(res.token);
      onSignedIn(res.account);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_request') {
        const f = err.fields();
        setFields(f);
        // Problems with fields this form does not show go in the box.
        if (!fieldNames.some((n) => f[n])) setError(err);
      } else if (setupToken !== undefined && err instanceof ApiError && err.code === 'not_found') {
        setSetupProblem(t('register.thisSetupLinkIs'));
      } else if (setupToken !== undefined && err instanceof ApiError && err.code === 'conflict' && err.details.field !== 'handle') {
        setSetupProblem(t('register.thisServerHasAn'));
      } else if (err instanceof ApiError && err.code === 'conflict') {
        setFields({ handle: t('register.thisHandleIsTaken') });
      } else if (err instanceof ApiError && err.code === 'terms_acceptance_required') {
        // The terms changed while the form was open: show the new ones.
        setForm({ ...form, accept: false });
        await loadTerms();
        setFields({ accepted_terms_version: t('register.theTermsHaveJust') });
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  };

  const input = (id: keyof typeof form, label: string, type: string, autocomplete: string, hint?: string, extra = {}) => {
    // Preact's types narrow <input> by its type; this helper serves several.
    const attrs: JSX.IntrinsicElements['input'] = {
      id,
      name: id,
      type: type as 'text',
      autocomplete,
      value: form[id] as string,
      onInput: set(id),
      'aria-invalid': fields[id] ? true : undefined,
      'aria-describedby': describedBy(id, fields[id], hint),
      required: true,
      ...extra,
    };
    return (
      <Field id={id} label={label} error={fields[id]} hint={hint}>
        <input {...attrs} />
      </Field>
    );
  };

  return (
    <main class="page narrow">
      {setupToken !== undefined ? (
        <>
          <h1>{t('register.setUpPlaza')}</h1>
          <p>
            {t('register.thisServerHasNo')}
          </p>
        </>
      ) : (
        <h1>{t('register.createYourAccount')}</h1>
      )}
      <form onSubmit={submit} noValidate>
        {input('handle', t('register.handle'), 'text', 'username', t('register.handleHint'), {
          autocapitalize: 'none',
          spellcheck: false,
          maxLength: 30,
        })}
        {input('display_name', t('register.displayName'), 'text', 'nickname', t('register.howOthersSeeYou'), { maxLength: 64 })}
        {input('password', t('register.password'), 'password', 'new-password', t('register.atLeast8Characters'), { minLength: 8 })}
        {input('birth_date', t('register.birthDate'), 'date', 'bday')}

        <section class="terms" aria-labelledby="terms-title">
          {terms ? (
            <>
              <h2 id="terms-title">
                {terms.title} <span class="muted">{t('register.version', { version: terms.version })}</span>
              </h2>
              <div class="terms-body" tabIndex={0} aria-label={t('register.termsOfServiceText')}>
                {terms.body}
              </div>
            </>
          ) : termsError ? (
            <>
              <h2 id="terms-title">{t('register.termsOfService')}</h2>
              <ErrorBox error={termsError} />
              <button type="button" onClick={loadTerms}>
                {t('register.loadTheTermsAgain')}
              </button>
            </>
          ) : (
            <h2 id="terms-title">{t('register.loadingTheTerms')}</h2>
          )}
          <div class={fields.accepted_terms_version ? 'check field-invalid' : 'check'}>
            <input
              id="accept"
              type="checkbox"
              checked={form.accept}
              onChange={set('accept')}
              disabled={!terms}
              aria-invalid={fields.accepted_terms_version ? true : undefined}
              aria-describedby={fields.accepted_terms_version ? 'accept-error' : undefined}
            />
            <label for="accept">{t('register.iHaveReadAnd')}</label>
          </div>
          {fields.accepted_terms_version && (
            <p class="field-error" id="accept-error">
              {fields.accepted_terms_version}
            </p>
          )}
        </section>

        <ErrorBox error={error} />
        {setupProblem && (
          <div class="error-box" role="alert">
            <strong>{setupProblem}</strong>
          </div>
        )}
        <button class="primary" type="submit" disabled={busy || !terms}>
          {busy ? t('register.creating') : t('register.createAccount')}
        </button>
      </form>
      <p>
        {t('register.alreadyHaveAnAccount')}{' '}
        <a href="/login" onClick={linkHandler}>
          {t('register.signIn')}
        </a>
      </p>
    </main>
  );
}
