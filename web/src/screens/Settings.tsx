// Settings: the account's ID (to share for starting chats), display name,
// verification (phone and identity), sessions with revoke, one's data
// (media, a downloadable copy, a legacy contact, deleting the account) and
// signing out.
import { useEffect, useState } from 'preact/hooks';
import { api, List, Me, Session } from '../api';
import { useSession } from '../app';
import { describedBy, ErrorBox, Field, shortTime } from '../ui';
import { linkHandler } from '../router';
import { consoleRoles } from './Console';
import { IdentityVerification, PhoneVerification } from './Verification';
import { MediaLibrary } from './MediaLibrary';
import { DeleteAccount, DownloadYourData, LegacyContactSection } from './YourData';

export function Settings() {
  const { me, setMe, signOut } = useSession();
  const [name, setName] = useState(me.display_name);
  const [nameError, setNameError] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [sessionsError, setSessionsError] = useState<unknown>(null);
  const [copied, setCopied] = useState(false);

  const loadSessions = () =>
    api<List<Session>>('GET', '/me/sessions').then((l) => setSessions(l.items), setSessionsError);
  useEffect(() => {
    loadSessions();
  }, []);

  const saveName = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setNameError({});
    setSaved('');
    try {
      const m = await api<Me>('PATCH', '/me', { display_name: name });
      setMe(m);
      setName(m.display_name);
      setSaved('Saved.');
    } catch (err: any) {
      const f = err?.fields?.() ?? {};
      if (f.display_name) setNameError(f);
      else setError(err);
    }
  };

  const revoke = async (s: Session) => {
    if (s.current) return signOut();
    try {
      await api('DELETE', `/me/sessions/${s.id}`);
      await loadSessions();
    } catch (err) {
      setSessionsError(err);
    }
  };

  const copyID = async () => {
    try {
      await navigator.clipboard.writeText(me.id);
      setCopied(true);
    } catch {
      // Without clipboard access (plain http), the ID field is selectable.
      (document.getElementById('my-id') as HTMLInputElement | null)?.select();
    }
  };

  return (
    <main class="page narrow">
      <h1>Settings</h1>

      <section aria-labelledby="account-h">
        <h2 id="account-h">Your account</h2>
        <p>
          Signed in as <strong>@{me.handle}</strong>.
        </p>
        <Field id="my-id" label="Your account ID" hint="Give it to someone so they can start a chat with you.">
          <div class="row">
            <input id="my-id" readOnly value={me.id} aria-describedby="my-id-hint" class="mono" />
            <button type="button" onClick={copyID}>
              {copied ? 'Copied' : 'Copy'}
            </button>
          </div>
        </Field>
      </section>

      {me.roles?.some((r) => consoleRoles.includes(r)) && (
        <section aria-labelledby="operator-h">
          <h2 id="operator-h">Operator</h2>
          <p>
            Your roles: {me.roles.join(', ')}.{' '}
            <a href="/console" onClick={linkHandler}>
              Open the operator console
            </a>
          </p>
        </section>
      )}

      <section aria-labelledby="moderation-h">
        <h2 id="moderation-h">Reports and decisions</h2>
        <ul class="link-list">
          <li>
            <a href="/me/reports" onClick={linkHandler}>
              My reports
            </a>{' '}
            <span class="muted">— what you reported and what was decided</span>
          </li>
          <li>
            <a href="/me/decisions" onClick={linkHandler}>
              Decisions about you
            </a>{' '}
            <span class="muted">— with the reasons, and how to appeal</span>
          </li>
          <li>
            <a href="/transparency" onClick={linkHandler}>
              Transparency report
            </a>
          </li>
        </ul>
      </section>

      <section aria-labelledby="verify-h">
        <h2 id="verify-h">Verification</h2>
        <PhoneVerification />
        <IdentityVerification />
      </section>

      <section aria-labelledby="profile-h">
        <h2 id="profile-h">Profile</h2>
        <form onSubmit={saveName}>
          <Field id="display-name" label="Display name" error={nameError.display_name}>
            <input
              id="display-name"
              value={name}
              maxLength={64}
              onInput={(e) => setName(e.currentTarget.value)}
              aria-invalid={nameError.display_name ? true : undefined}
              aria-describedby={describedBy('display-name', nameError.display_name)}
            />
          </Field>
          <ErrorBox error={error} />
          <div class="row">
            <button type="submit" class="primary">
              Save
            </button>
            <span role="status">{saved}</span>
          </div>
        </form>
      </section>

      <section aria-labelledby="sessions-h">
        <h2 id="sessions-h">Sessions</h2>
        <ErrorBox error={sessionsError} />
        {sessions === null ? (
          <p>Loading…</p>
        ) : (
          <ul class="sessions">
            {sessions.map((s) => (
              <li key={s.id}>
                <div>
                  <div>{describeAgent(s.user_agent)}</div>
                  <div class="muted">
                    {s.current ? 'This device · ' : ''}last used {shortTime(s.last_used_at)}
                  </div>
                </div>
                <button type="button" onClick={() => revoke(s)} aria-label={s.current ? 'Sign out of this device' : `Revoke session on ${describeAgent(s.user_agent)}, last used ${shortTime(s.last_used_at)}`}>
                  {s.current ? 'Sign out' : 'Revoke'}
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>

      <MediaLibrary />
      <DownloadYourData handle={me.handle} />
      <LegacyContactSection />
      <DeleteAccount me={me} setMe={setMe} />

      <button type="button" class="danger" onClick={signOut}>
        Sign out
      </button>
    </main>
  );
}

function describeAgent(ua: string): string {
  if (!ua) return 'Unknown device';
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : '';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return [browser, os].filter(Boolean).join(' on ') || ua.slice(0, 60);
}
