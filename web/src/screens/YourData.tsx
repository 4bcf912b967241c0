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
    throw new ApiError(0, 'network', 'The server could not be reached.');
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

const statusWords: Record<Export['status'], string> = {
  pending: 'Waiting to start',
  running: 'Being prepared',
  ready: 'Ready',
  failed: 'Failed',
  expired: 'Expired',
};

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
      <H id="export-h">Download your data</H>
      <p>
        A copy of what Plaza holds about you — your account, contacts, conversations, posts, decisions and media — as a ZIP file that
        you can open and read without Plaza.
      </p>
      <button type="button" class="primary" onClick={request} disabled={busy || running} aria-busy={busy}>
        {running ? 'Preparing…' : 'Prepare a download'}
      </button>
      <ErrorBox error={error} />
      <div role="status" aria-live="polite">
        {current && running && (
          <div class="export-progress">
            <label for="export-bar">
              {current.status === 'pending' ? 'Waiting to start…' : 'Preparing your data…'} {percent(current)}%
            </label>
            <progress id="export-bar" max={100} value={percent(current)} />
          </div>
        )}
        {current?.status === 'ready' && (
          <p class="export-ready">
            Your data is ready ({formatBytes(current.size)}).{current.expires_at ? ` You can download it until ${longDate(current.expires_at)}.` : ''}
          </p>
        )}
        {current?.status === 'failed' && <p class="field-error">Preparing your data failed. Try again; if it keeps failing, tell the operator.</p>}
      </div>
      {current?.status === 'ready' && (
        <button type="button" onClick={() => save(current)} disabled={saving === current.id} aria-busy={saving === current.id}>
          {saving === current.id ? 'Downloading…' : 'Download'}
        </button>
      )}
      <ErrorBox error={saveError} />
      {earlier.length > 0 && (
        <>
          <Sub class="sub-h">Earlier downloads</Sub>
          <ul class="exports">
            {earlier.map((x) => (
              <li key={x.id}>
                <div>
                  <div>{x.created_at ? longDate(x.created_at) : `Download ${x.id}`}</div>
                  <div class="muted">
                    {statusWords[x.status] ?? x.status}
                    {x.status === 'ready' && x.size > 0 ? ` · ${formatBytes(x.size)}` : ''}
                    {x.status === 'ready' && x.expires_at ? ` · until ${longDay(x.expires_at)}` : ''}
                  </div>
                </div>
                {x.status === 'ready' && (
                  <button type="button" onClick={() => save(x)} disabled={saving === x.id} aria-label={`Download the copy of ${x.created_at ? longDate(x.created_at) : x.id}`}>
                    Download
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
      setFieldError('Enter your password to delete your account.');
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
        setFieldError(e instanceof ApiError && e.code === 'forbidden' ? 'The password is wrong.' : f.password);
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
      setDone('Deletion cancelled: your account stays.');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (me.deletion_scheduled_at) {
    return (
      <section aria-labelledby="delete-h">
        <H id="delete-h">Delete account</H>
        <p class="deletion-date">
          <strong>Your account will be deleted on {longDate(me.deletion_scheduled_at)}.</strong> Until then you can change your mind.
        </p>
        <ErrorBox error={error} />
        <button type="button" class="primary" onClick={cancel} disabled={busy} aria-busy={busy}>
          {busy ? 'Cancelling…' : 'Cancel deletion'}
        </button>
      </section>
    );
  }
  return (
    <section aria-labelledby="delete-h">
      <H id="delete-h">Delete account</H>
      <p>
        Plaza waits {DELETION_GRACE_DAYS} days before it deletes your account, so you can change your mind. Download your data first if
        you want a copy.
      </p>
      <p role="status">{done}</p>
      <form onSubmit={ask} noValidate>
        <Field id="delete-password" label="Your password" error={fieldError}>
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
          Delete my account…
        </button>
      </form>
      {asking && (
        <ConfirmDialog
          id="delete-account"
          title="Delete your account?"
          confirmLabel="Delete my account"
          busyLabel="Deleting…"
          busy={busy}
          error={error}
          onConfirm={confirm}
          onCancel={() => setAsking(false)}
          focusAfter={focusAfter}
        >
          <p>
            Your account will be deleted after a grace period of {DELETION_GRACE_DAYS} days. Until then you can sign in and cancel the
            deletion.
          </p>
          <p>
            After it, your profile, contacts, posts and media are erased for good. Messages you sent stay in the chats, shown as from a
            deleted account.
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
    <div class="deletion-banner" role="region" aria-label="Account deletion">
      <span>Your account will be deleted on {longDay(me.deletion_scheduled_at)}.</span>
      <button type="button" onClick={cancel} disabled={busy} aria-busy={busy}>
        Cancel deletion
      </button>
      <ErrorBox error={error} />
    </div>
  );
}

/** LegacyContactSection chooses who may look after the account once it is memorialised. */
export function LegacyContactSection() {
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
    return c ? `${c.display_name} (@${c.handle})` : 'a former contact';
  };

  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone('');
    if (!choice) {
      setFields({ account_id: 'Choose one of your contacts.' });
      return;
    }
    setFields({});
    setBusy(true);
    try {
      const body = { account_id: choice, may_download: mayDownload };
      const res = await api<LegacyContact | undefined>('PUT', '/me/legacy-contact', body);
      setCurrent(res && res.account_id ? res : body);
      setDone(`Saved: ${nameOf(choice)} is your legacy contact.`);
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
      setDone('You have no legacy contact now.');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="legacy-h">
      <h2 id="legacy-h">Legacy contact</h2>
      <p>
        If you die, the operator can memorialise your account: it stays as it is, and no one can sign in to it. Your legacy contact is
        the person who may then ask for a copy of your data, if you allow it.
      </p>
      {current === undefined || contacts === null ? (
        !error && <p>Loading…</p>
      ) : (
        <>
          <p class="legacy-current">
            {current
              ? `Your legacy contact is ${nameOf(current.account_id)}; they ${current.may_download ? 'may' : 'may not'} download your data.`
              : 'You have no legacy contact.'}
          </p>
          {contacts.length === 0 && !current ? (
            <p class="empty">Your legacy contact must be one of your contacts, and you have none yet.</p>
          ) : (
            <form onSubmit={save} noValidate>
              <Field id="legacy-contact" label="Legacy contact" error={fields.account_id}>
                <select
                  id="legacy-contact"
                  value={choice}
                  onChange={(e) => setChoice(e.currentTarget.value)}
                  aria-invalid={fields.account_id ? true : undefined}
                  aria-describedby={describedBy('legacy-contact', fields.account_id)}
                >
                  <option value="">Choose a contact</option>
                  {contacts.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.display_name} (@{c.handle})
                    </option>
                  ))}
                </select>
              </Field>
              <div class="check">
                <input id="legacy-download" type="checkbox" checked={mayDownload} onChange={(e) => setMayDownload(e.currentTarget.checked)} />
                <label for="legacy-download">They may download a copy of my data</label>
              </div>
              {fields.may_download && <p class="field-error">{fields.may_download}</p>}
              <div class="row legacy-actions">
                <button type="submit" class="primary" disabled={busy}>
                  Save legacy contact
                </button>
                {current && (
                  <button type="button" onClick={remove} disabled={busy}>
                    Remove legacy contact
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
