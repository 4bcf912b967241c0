// Invite links: "My invite link" on the contacts page makes a link (and a
// QR code of it, drawn here in the browser) that lets someone send you a
// contact request without knowing your handle; the page /add/TOKEN shows
// whose link it is and sends that request.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, ContactRequest } from '../api';
import { Avatar } from '../avatar';
import { createInvite, Invite, inviteInfo, InviteInfo, inviteLink, listInvites, NewInvite, revokeInvite } from '../people';
import { linkHandler } from '../router';
import { ErrorBox, Field, longDay } from '../ui';
import { t } from '../i18n';

/** MyInvites makes, shows and revokes the account's invite links. */
export function MyInvites() {
  const [made, setMade] = useState<NewInvite | null>(null);
  const [live, setLive] = useState<Invite[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const linkRef = useRef<HTMLInputElement>(null);

  const load = () => listInvites().then((l) => setLive(l.items), setError);
  useEffect(() => {
    load();
  }, []);

  const make = async () => {
    setError(null);
    setBusy(true);
    setCopied(false);
    try {
      setMade(await createInvite());
      await load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!made) return;
    try {
      await navigator.clipboard.writeText(inviteLink(made.url));
      setCopied(true);
    } catch {
      // Without clipboard access (plain http), the link is selected to copy by hand.
      linkRef.current?.select();
    }
  };

  const revoke = async (inv: Invite) => {
    setError(null);
    try {
      await revokeInvite(inv.id);
      if (made?.id === inv.id) setMade(null);
      await load();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section aria-labelledby="invite-h">
      <h2 id="invite-h">{t('people.invite.title')}</h2>
      <p class="muted">{t('people.invite.what')}</p>
      <ErrorBox error={error} />
      {made ? (
        <div class="invite-card">
          <Field id="invite-link" label={t('people.invite.link')} hint={t('people.invite.validUntil', { date: longDay(made.expires_at) })}>
            <div class="row">
              <input id="invite-link" ref={linkRef} readOnly value={inviteLink(made.url)} aria-describedby="invite-link-hint" class="mono" />
              <button type="button" onClick={copy}>
                {copied ? t('people.invite.copied') : t('people.invite.copy')}
              </button>
            </div>
          </Field>
          <QrCode text={inviteLink(made.url)} />
          <p class="muted">{t('people.invite.shownOnce')}</p>
        </div>
      ) : null}
      <button type="button" class={made ? '' : 'primary'} onClick={make} disabled={busy} aria-busy={busy}>
        {made ? t('people.invite.makeAnother') : t('people.invite.make')}
      </button>
      {live && live.length > 0 && (
        <>
          <h3 id="invite-list-h">{t('people.invite.working')}</h3>
          <ul class="people" aria-labelledby="invite-list-h">
            {live.map((inv) => (
              <li key={inv.id}>
                <span class="person">
                  <span class="mono">{t('people.invite.prefix', { prefix: inv.prefix })}</span>
                  <span class="muted">{t('people.invite.expires', { date: longDay(inv.expires_at) })}</span>
                </span>
                <button type="button" onClick={() => revoke(inv)} aria-label={t('people.invite.revokeNamed', { prefix: inv.prefix })}>
                  {t('people.invite.revoke')}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/**
 * QrCode draws a QR code of text onto a <canvas>: the page's
 * Content-Security-Policy allows canvases, and the qrcode library is
 * fetched only when a code is first shown.
 */
export function QrCode({ text }: { text: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [failed, setFailed] = useState(false);
  const [drawn, setDrawn] = useState(false);
  useEffect(() => {
    let live = true;
    setDrawn(false);
    import('qrcode')
      .then((QR) => {
        if (!live || !ref.current) return;
        return QR.toCanvas(ref.current, text, { errorCorrectionLevel: 'M', margin: 2, width: 232, color: { dark: '#000000', light: '#ffffff' } });
      })
      .then(
        () => live && setDrawn(true),
        () => live && setFailed(true),
      );
    return () => {
      live = false;
    };
  }, [text]);
  if (failed) return <p class="muted">{t('people.invite.qrFailed')}</p>;
  return (
    <figure class="qr">
      <canvas ref={ref} role="img" aria-label={t('people.invite.qrLabel')} data-drawn={drawn ? 'true' : undefined} width={232} height={232} />
      <figcaption class="muted">{t('people.invite.qrCaption')}</figcaption>
    </figure>
  );
}

/** AddByInvite is /add/TOKEN: whose link it is, and a contact request to them. */
export function AddByInvite({ token }: { token: string }) {
  const [info, setInfo] = useState<InviteInfo | null>(null);
  const [problem, setProblem] = useState<'gone' | 'own' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<'' | 'sent' | 'accepted'>('');

  useEffect(() => {
    inviteInfo(token).then(setInfo, (e) => {
      if (e instanceof ApiError && e.status === 404) setProblem('gone');
      else if (e instanceof ApiError && e.status === 409 && e.details.reason === 'own_invite') setProblem('own');
      else setError(e);
    });
  }, [token]);

  const send = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const r = await api<ContactRequest>('POST', '/contacts/requests', { invite_token: token, note: note.trim() });
      setDone(r.status === 'accepted' ? 'accepted' : 'sent');
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setProblem('gone');
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  const contacts = (
    <p>
      <a href="/contacts" onClick={linkHandler}>
        {t('people.invite.toContacts')}
      </a>
    </p>
  );

  return (
    <main class="page narrow">
      <h1>{t('people.invite.addTitle')}</h1>
      {problem === 'gone' && (
        <div role="alert" class="notice">
          <p>{t('people.invite.gone')}</p>
        </div>
      )}
      {problem === 'own' && (
        <p role="status" class="notice">
          {t('people.invite.own')}
        </p>
      )}
      {problem && contacts}
      <ErrorBox error={error} />
      {!info && !problem && !error && <p aria-busy="true">{t('people.loading')}</p>}
      {info && !problem && (
        <>
          <ProfileCard p={info.account} />
          {done ? (
            <>
              <p role="status">{done === 'accepted' ? t('people.find.nowContacts') : t('people.find.sent')}</p>
              {contacts}
            </>
          ) : (
            <form onSubmit={send}>
              <Field id="invite-note" label={t('people.find.note')}>
                <input id="invite-note" maxLength={200} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
              </Field>
              <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
                {t('people.find.send')}
              </button>
            </form>
          )}
        </>
      )}
    </main>
  );
}

/** ProfileCard shows someone found: photo, name and handle. */
export function ProfileCard({ p }: { p: { display_name: string; handle: string; avatar_url?: string | null; verified?: boolean } }) {
  return (
    <div class="profile-card">
      <Avatar name={p.display_name} url={p.avatar_url} size="big" />
      <div class="person">
        <strong class="found-name">{p.display_name}</strong>
        <span class="muted">@{p.handle}</span>
      </div>
    </div>
  );
}
