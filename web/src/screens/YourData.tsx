// Settings › Your data: downloading a copy of one's data (prepared in the
// background, with its progress, then saved as a ZIP), deleting the
// account after a grace period (and cancelling that), and choosing a
// legacy contact. The banner that says an account is to be deleted, with
// its Cancel button, lives here too: the app shows it on every screen.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, Contact, Export, getToken, LegacyContact, List, Me, setToken } from '../api';
import { ConfirmDialog } from '../confirm';
import { describedBy, ErrorBox, Field, formatBytes, longDay } from '../ui';
import { longDate } from '../moderation';
import { t } from '../i18n';
import { words } from '../words';

/** DELETION_GRACE_DAYS is the server's default grace period before an account is deleted. */
const DELETION_GRACE_DAYS = 14;

/** deletionNoticeKey keeps the deletion date for the sign-in page when scheduling ended the session. */
export const deletionNoticeKey = 'plaza.deletionNotice';

const active = (x: Export | null) => !!x && (x.status === 'pending' || x.status === 'running');

/** percent turns an export's progress (0 to 1) into a whole percentage. */
function percent(x: Export): number {
  const p = Number(x.progress) || 0;
  return Math.max(0, Math.min(100, Math.floor((p > 1 ? p / 100 : p) * 100)));
}

/** saveExport fetches a ready export with the session token and saves it as a ZIP. */
async function saveExport(x: Export, handle: string): Promise<void> {
  const url = x.download_url || `/api/v1/me/exports/${x.id}/download`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { Authorization: `Bearer ${getToken()}` } });
  } catch {
    throw new ApiError(0, 'network', t('yourData.theServerCouldNot'));
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    const e = body?.error ?? {};
    throw new ApiError(res.status, e.code ?? (res.status === 404 ? 'not_found' : 'internal'), e.message ?? res.statusText, e.details ?? {});
  }
  const blob = await res.blob();
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = `plaza-${handle}-${(x.created_at ?? new Date().toISOString()).slice(0, 10)}.zip`;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60000);
}

const statusWords = words<Export['status']>({
  pending: 'yourData.waitingToStart',
  running: 'yourData.beingPrepared',
  ready: 'yourData.statusWords.ready',
  failed: 'yourData.statusWords.failed',
  expired: 'yourData.statusWords.expired',
});

/** DownloadYourData asks for a copy of one's data, shows its progress and saves it. */
export function DownloadYourData({ handle, headingLevel = 2 }: { handle: string; headingLevel?: 2 | 3 }) {
  const [list, setList] = useState<Export[] | null>(null);
  const [current, setCurrent] = useState<Export | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saving, setSaving] = useState('');
  const [saveError, setSaveError] = useState<unknown>(null);

  const loadList = () =>
    api<List<Export>>('GET', '/me/exports').then(
      (l) => {
        setList(l.items ?? []);
        setCurrent((cur) => cur ?? l.items?.find((x) => active(x)) ?? null);
      },
      setError,
    );
  useEffect(() => {
    loadList();
  }, []);

  // Poll the export being prepared about once a second until it is done.
  const currentID = current?.id;
  const running = active(current);
  useEffect(() => {
    if (!currentID || !running) return;
    let live = true;
    let timer = 0;
    const tick = async () => {
      try {
        const x = await api<Export>('GET', `/me/exports/${currentID}`);
        if (!live) return;
        setCurrent(x);
        if (active(x)) timer = window.setTimeout(tick, 1000);
        else loadList();
      } catch (e) {
        if (live) setError(e);
      }
    };
    timer = window.setTimeout(tick, 500);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [currentID, running]);

  const request = async () => {
    setError(null);
    setBusy(true);
    try {
      // The answer is {id, status}; progress and size come with polling.
      const x = await api<Pick<Export, 'id' | 'status'> & Partial<Export>>('POST', '/me/exports');
      setCurrent({ ...x, progress: x.progress ?? 0, size: x.size ?? 0 });
    } catch (e) {
      // One is being prepared already: follow that one.
      const other = e instanceof ApiError && e.code === 'conflict' ? String(e.details.export_id ?? '') : '';
      if (other) setCurrent({ id: other, status: 'pending', progress: 0, size: 0 });
      else setError(e);
    } finally {
      setBusy(false);
    }
  };

  const save = async (x: Export) => {
    setSaveError(null);
    setSaving(x.id);
    try {
      await saveExport(x, handle);
    } catch (e) {
      setSaveError(e);
    } finally {
      setSaving('');
    }
  };

  const H = headingLevel === 2 ? 'h2' : 'h3';
  const Sub = headingLevel === 2 ? 'h3' : 'h4';
  const earlier = (list ?? []).filter((x) => x.id !== current?.id);
  return (
    <section aria-labelledby="export-h" class="your-data">
      <H id="export-h">{t('yourData.downloadYourData')}</H>
      <p>
        {t('yourData.aCopyOfWhat')}
      </p>
      <button type="button" class="primary" onClick={request} disabled={busy || running} aria-busy={busy}>
        {running ? t('yourData.preparing') : t('yourData.prepareADownload')}
      </button>
      <ErrorBox error={error} />
      <div role="status" aria-live="polite">
        {current && running && (
          <div class="export-progress">
            <label for="export-bar">
              {current.status === 'pending' ? t('yourData.waitingToStart2') : t('yourData.preparingYourData')} {percent(current)}%
            </label>
            <progress id="export-bar" max={100} value={percent(current)} />
          </div>
        )}
        {current?.status === 'ready' && (
          <p class="export-ready">
            {t('yourData.yourDataIsReady', { size: formatBytes(current.size) })}
            {current.expires_at ? ` ${t('yourData.youCanDownloadIt', { date: longDate(current.expires_at) })}` : ''}
          </p>
        )}
        {current?.status === 'failed' && <p class="field-error">{t('yourData.preparingYourDataFailed')}</p>}
      </div>
      {current?.status === 'ready' && (
        <button type="button" onClick={() => save(current)} disabled={saving === current.id} aria-busy={saving === current.id}>
          {saving === current.id ? t('yourData.downloading') : t('yourData.download')}
        </button>
      )}
      <ErrorBox error={saveError} />
      {earlier.length > 0 && (
        <>
          <Sub class="sub-h">{t('yourData.earlierDownloads')}</Sub>
          <ul class="exports">
            {earlier.map((x) => (
              <li key={x.id}>
                <div>
                  <div>{x.created_at ? longDate(x.created_at) : t('yourData.downloadId', { id: x.id })}</div>
                  <div class="muted">
                    {statusWords[x.status] ?? x.status}
                    {x.status === 'ready' && x.size > 0 ? ` · ${formatBytes(x.size)}` : ''}
                    {x.status === 'ready' && x.expires_at ? t('yourData.untilV', { date: longDay(x.expires_at) }) : ''}
                  </div>
                </div>
                {x.status === 'ready' && (
                  <button type="button" onClick={() => save(x)} disabled={saving === x.id} aria-label={t('yourData.downloadTheCopyOf', { date: x.created_at ? longDate(x.created_at) : x.id })}>
                    {t('yourData.download')}
                  </button>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

interface AccountProps {
  me: Me;
  setMe: (m: Me) => void;
}

/** cancelDeletion keeps the account and reads it again. */
async function cancelDeletion({ me, setMe }: AccountProps): Promise<void> {
  await api('POST', '/me/deletion/cancel');
  try {
    sessionStorage.removeItem(deletionNoticeKey);
  } catch {
    // Storage may be off; the notice only helps the sign-in page.
  }
  const m = await api<Me>('GET', '/me').catch(() => null);
  setMe(m ? { ...m, deletion_scheduled_at: m.deletion_scheduled_at ?? null } : { ...me, deletion_scheduled_at: null });
}

/** DeleteAccount deletes the account after its password and a confirmation, or shows when and offers to cancel. */
export function DeleteAccount({ me, setMe, headingLevel = 2 }: AccountProps & { headingLevel?: 2 | 3 }) {
  const [password, setPassword] = useState('');
  const [fieldError, setFieldError] = useState('');
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const opener = useRef<HTMLButtonElement>(null);
  const input = useRef<HTMLInputElement>(null);
  // Where the focus goes when the dialog closes: the button that opened
  // it, or the password field when the password was wrong.
  const focusAfter = useRef<HTMLElement | null>(null);
  const H = headingLevel === 2 ? 'h2' : 'h3';

  const ask = (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone('');
    if (!password) {
      setFieldError(t('yourData.enterYourPasswordTo'));
      input.current?.focus();
      return;
    }
    setFieldError('');
    focusAfter.current = opener.current;
    setAsking(true);
  };

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const res = await api<{ deletion_scheduled_at: string }>('DELETE', '/me', { password });
      const at = res?.deletion_scheduled_at ?? null;
      // Scheduling may end the sessions: the sign-in page then says when.
      try {
        if (at) sessionStorage.setItem(deletionNoticeKey, at);
      } catch {
        // Without storage the sign-in page just does not say it.
      }
      setAsking(false);
      setPassword('');
      // The server has ended every session, this one included: start
      // again signed out, where the sign-in page names the date.
      setToken(null);
      window.location.assign('/');
    } catch (e) {
      const f = e instanceof ApiError ? e.fields() : {};
      if (f.password) {
        focusAfter.current = input.current;
        setAsking(false);
        setFieldError(e instanceof ApiError && e.code === 'forbidden' ? t('yourData.thePasswordIsWrong') : f.password);
      } else {
        setError(e);
      }
    } finally {
      setBusy(false);
    }
  };

  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      await cancelDeletion({ me, setMe });
      setDone(t('yourData.deletionCancelledYourAccount'));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (me.deletion_scheduled_at) {
    return (
      <section aria-labelledby="delete-h">
        <H id="delete-h">{t('yourData.deleteAccount')}</H>
        <p class="deletion-date">
          <strong>{t('yourData.yourAccountWillBe', { date: longDate(me.deletion_scheduled_at) })}</strong> {t('yourData.untilThenYouCan')}
        </p>
        <ErrorBox error={error} />
        <button type="button" class="primary" onClick={cancel} disabled={busy} aria-busy={busy}>
          {busy ? t('yourData.cancelling') : t('yourData.cancelDeletion')}
        </button>
      </section>
    );
  }
  return (
    <section aria-labelledby="delete-h">
      <H id="delete-h">{t('yourData.deleteAccount')}</H>
      <p>
        {t('yourData.plazaWaits', { count: DELETION_GRACE_DAYS })}
      </p>
      <p role="status">{done}</p>
      <form onSubmit={ask} noValidate>
        <Field id="delete-password" label={t('yourData.yourPassword')} error={fieldError}>
          <input
            id="delete-password"
            ref={input}
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            aria-invalid={fieldError ? true : undefined}
            aria-describedby={describedBy('delete-password', fieldError)}
          />
        </Field>
        <ErrorBox error={asking ? null : error} />
        <button type="submit" ref={opener} class="danger-inline" aria-haspopup="dialog">
          {t('yourData.deleteMyAccount')}
        </button>
      </form>
      {asking && (
        <ConfirmDialog
          id="delete-account"
          title={t('yourData.deleteYourAccount')}
          confirmLabel={t('yourData.deleteMyAccount2')}
          busyLabel={t('yourData.deleting')}
          busy={busy}
          error={error}
          onConfirm={confirm}
          onCancel={() => setAsking(false)}
          focusAfter={focusAfter}
        >
          <p>
            {t('yourData.gracePeriod', { count: DELETION_GRACE_DAYS })}
          </p>
          <p>
            {t('yourData.afterItYourProfile')}
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** DeletionBanner tells on every screen that the account is to be deleted, with a way to keep it. */
export function DeletionBanner({ me, setMe }: AccountProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!me.deletion_scheduled_at) return null;
  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      await cancelDeletion({ me, setMe });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="deletion-banner" role="region" aria-label={t('yourData.accountDeletion')}>
      <span>{t('yourData.yourAccountWillBe', { date: longDay(me.deletion_scheduled_at) })}</span>
      <button type="button" onClick={cancel} disabled={busy} aria-busy={busy}>
        {t('yourData.cancelDeletion')}
      </button>
      <ErrorBox error={error} />
    </div>
  );
}

/** LegacyContactSection chooses who may look after the account once it is memorialised. */
export function LegacyContactSection({ headingLevel = 2 }: { headingLevel?: 2 | 3 }) {
  const H = headingLevel === 2 ? 'h2' : 'h3';
  const [contacts, setContacts] = useState<Contact[] | null>(null);
  const [current, setCurrent] = useState<LegacyContact | null | undefined>(undefined);
  const [choice, setChoice] = useState('');
  const [mayDownload, setMayDownload] = useState(false);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');

  useEffect(() => {
    api<List<Contact>>('GET', '/contacts').then((l) => setContacts(l.items ?? []), setError);
    api<LegacyContact | null>('GET', '/me/legacy-contact').then(
      (c) => {
        const lc = c && c.account_id ? c : null;
        setCurrent(lc);
        if (lc) {
          setChoice(lc.account_id);
          setMayDownload(!!lc.may_download);
        }
      },
      (e) => {
        if (e instanceof ApiError && e.status === 404) setCurrent(null);
        else setError(e);
      },
    );
  }, []);

  const nameOf = (id: string) => {
    const c = contacts?.find((x) => x.id === id);
    return c ? `${c.display_name} (@${c.handle})` : t('yourData.aFormerContact');
  };

  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone('');
    if (!choice) {
      setFields({ account_id: t('yourData.chooseOneOfYour') });
      return;
    }
    setFields({});
    setBusy(true);
    try {
      const body = { account_id: choice, may_download: mayDownload };
      const res = await api<LegacyContact | undefined>('PUT', '/me/legacy-contact', body);
      setCurrent(res && res.account_id ? res : body);
      setDone(t('yourData.savedLegacyContact', { name: nameOf(choice) }));
    } catch (err) {
      const f = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
      if (Object.keys(f).length) setFields(f);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setError(null);
    setDone('');
    setBusy(true);
    try {
      await api('DELETE', '/me/legacy-contact');
      setCurrent(null);
      setChoice('');
      setMayDownload(false);
      setDone(t('yourData.youHaveNoLegacy'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="legacy-h">
      <H id="legacy-h">{t('yourData.legacyContact')}</H>
      <p>
        {t('yourData.ifYouDieThe')}
      </p>
      {current === undefined || contacts === null ? (
        !error && <p>{t('yourData.loading')}</p>
      ) : (
        <>
          <p class="legacy-current">
            {current
              ? current.may_download
                ? t('yourData.legacyMayDownload', { name: nameOf(current.account_id) })
                : t('yourData.legacyMayNotDownload', { name: nameOf(current.account_id) })
              : t('yourData.youHaveNoLegacy2')}
          </p>
          {contacts.length === 0 && !current ? (
            <p class="empty">{t('yourData.yourLegacyContactMust')}</p>
          ) : (
            <form onSubmit={save} noValidate>
              <Field id="legacy-contact" label={t('yourData.legacyContact')} error={fields.account_id}>
                <select
                  id="legacy-contact"
                  value={choice}
                  onChange={(e) => setChoice(e.currentTarget.value)}
                  aria-invalid={fields.account_id ? true : undefined}
                  aria-describedby={describedBy('legacy-contact', fields.account_id)}
                >
                  <option value="">{t('yourData.chooseAContact')}</option>
                  {contacts.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.display_name} (@{c.handle})
                    </option>
                  ))}
                </select>
              </Field>
              <div class="check">
                <input id="legacy-download" type="checkbox" checked={mayDownload} onChange={(e) => setMayDownload(e.currentTarget.checked)} />
                <label for="legacy-download">{t('yourData.theyMayDownloadA')}</label>
              </div>
              {fields.may_download && <p class="field-error">{fields.may_download}</p>}
              <div class="row legacy-actions">
                <button type="submit" class="primary" disabled={busy}>
                  {t('yourData.saveLegacyContact')}
                </button>
                {current && (
                  <button type="button" onClick={remove} disabled={busy}>
                    {t('yourData.removeLegacyContact')}
                  </button>
                )}
              </div>
            </form>
          )}
        </>
      )}
      <ErrorBox error={error} />
      <p role="status">{done}</p>
    </section>
  );
}
