// Settings, in sections each with a heading that can be linked to
// (/settings#language): profile (photo, the account's ID to share, display
// name), privacy (what others can see, who may find you by handle or
// phone), notifications (push on this device), language (also for the
// server's text messages) and appearance, sessions with revoke and signing
// out, one's data (media, a downloadable copy, a legacy contact, reports and
// decisions, deleting the account) and identity (phone and identity
// verification).
import { useEffect, useState } from 'preact/hooks';
import { api, List, Me, Session } from '../api';
import { useSession } from '../app';
import { describedBy, ErrorBox, Field, shortTime } from '../ui';
import { linkHandler } from '../router';
import { consoleRoles } from '../roles';
import { IdentityVerification, PhoneVerification } from './Verification';
import { MediaLibrary } from './MediaLibrary';
import { DeleteAccount, DownloadYourData, LegacyContactSection } from './YourData';
import { AvatarEditor } from './AvatarEditor';
import { FindMeSettings, PushSetting } from './PeopleSettings';
import { Lang, lang, languages, setLang, t } from '../i18n';
import { getTheme, setTheme, Theme, themes } from '../theme';
import { words } from '../words';

export function Settings() {
  const { me, setMe, signOut } = useSession();
  const [name, setName] = useState(me.display_name);
  const [nameError, setNameError] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [sessionsError, setSessionsError] = useState<unknown>(null);
  const [copied, setCopied] = useState(false);
  const [theme, setThemeState] = useState<Theme>(getTheme());
  const [langError, setLangError] = useState<unknown>(null);

  const loadSessions = () =>
    api<List<Session>>('GET', '/me/sessions').then((l) => setSessions(l.items), setSessionsError);
  useEffect(() => {
    loadSessions();
    // A link to one section (/settings#language) lands on it once the page is drawn.
    const id = location.hash.slice(1);
    if (id) document.getElementById(id)?.scrollIntoView();
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
      setSaved(t('common.saved'));
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

  // The server's copy of the language decides the text messages it sends (SMS codes).
  const changeLang = async (l: Lang) => {
    setLangError(null);
    await setLang(l);
    try {
      setMe(await api<Me>('PATCH', '/me', { language: l }));
    } catch (err) {
      setLangError(err);
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

  const sections: [string, string][] = [
    ['profile', t('settings.profile')],
    ['privacy', t('settings.privacy')],
    ['notifications', t('settings.notifications')],
    ['language', t('settings.languageAndAppearance')],
    ['sessions', t('settings.sessions')],
    ['data', t('settings.yourData')],
    ['identity', t('settings.identity')],
  ];

  return (
    <main class="page narrow">
      <h1>{t('settings.settings')}</h1>
      <nav aria-label={t('settings.sectionsNav')}>
        <ul class="link-list">
          {sections.map(([id, label]) => (
            <li key={id}>
              <a href={`#${id}`}>{label}</a>
            </li>
          ))}
        </ul>
      </nav>

      <section aria-labelledby="profile">
        <h2 id="profile" tabIndex={-1}>
          {t('settings.profile')}
        </h2>
        <p>{t('settings.signedInAs', { handle: me.handle })}</p>
        <Field id="my-id" label={t('settings.yourAccountId')} hint={t('settings.giveItToSomeone')}>
          <div class="row">
            <input id="my-id" readOnly value={me.id} aria-describedby="my-id-hint" class="mono" />
            <button type="button" onClick={copyID}>
              {copied ? t('settings.copied') : t('settings.copy')}
            </button>
          </div>
        </Field>
        <AvatarEditor me={me} setMe={setMe} />
        <form onSubmit={saveName}>
          <Field id="display-name" label={t('settings.displayName')} error={nameError.display_name}>
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
              {t('settings.save')}
            </button>
            <span role="status">{saved}</span>
          </div>
        </form>
        {me.roles?.some((r) => consoleRoles.includes(r)) && (
          <>
            <h3 id="operator-h">{t('settings.operator')}</h3>
            <p>
              {t('settings.yourRoles', { roles: me.roles.join(', ') })}{' '}
              <a href="/console" onClick={linkHandler}>
                {t('settings.openTheOperatorConsole')}
              </a>
            </p>
          </>
        )}
      </section>

      <section aria-labelledby="privacy">
        <h2 id="privacy" tabIndex={-1}>
          {t('settings.privacy')}
        </h2>
        <ul>
          <li>{t('people.privacy.phoneNeverShown')}</li>
          <li>{t('settings.privacy.messages')}</li>
          <li>{t('settings.privacy.posts')}</li>
          <li>{t('settings.privacy.identity')}</li>
        </ul>
        <FindMeSettings />
      </section>

      <section aria-labelledby="notifications">
        <h2 id="notifications" tabIndex={-1}>
          {t('settings.notifications')}
        </h2>
        <p>
          {t('settings.notifications.what')}{' '}
          <a href="/notifications" onClick={linkHandler}>
            {t('settings.notifications.open')}
          </a>
        </p>
        <p class="muted">{t('settings.notifications.chats')}</p>
        <PushSetting />
      </section>

      <section aria-labelledby="language">
        <h2 id="language" tabIndex={-1}>
          {t('settings.languageAndAppearance')}
        </h2>
        <Field id="settings-lang" label={t('settings.language')}>
          <select id="settings-lang" value={lang()} aria-describedby="settings-lang-sms" onChange={(e) => changeLang(e.currentTarget.value as Lang)}>
            {languages.map((l) => (
              <option key={l} value={l} lang={l}>
                {languageNames[l]}
              </option>
            ))}
          </select>
        </Field>
        <p class="muted" id="settings-lang-sms">
          {t('people.language.sms')}
        </p>
        <ErrorBox error={langError} />
        <Field id="settings-theme" label={t('settings.theme')}>
          <select
            id="settings-theme"
            value={theme}
            onChange={(e) => {
              const v = e.currentTarget.value as Theme;
              setTheme(v);
              setThemeState(v);
            }}
          >
            {themes.map((th) => (
              <option key={th} value={th}>
                {themeNames[th]}
              </option>
            ))}
          </select>
        </Field>
      </section>

      <section aria-labelledby="sessions">
        <h2 id="sessions" tabIndex={-1}>
          {t('settings.sessions')}
        </h2>
        <ErrorBox error={sessionsError} />
        {sessions === null ? (
          <p>{t('settings.loading')}</p>
        ) : (
          <ul class="sessions">
            {sessions.map((s) => (
              <li key={s.id}>
                <div>
                  <div>{describeAgent(s.user_agent)}</div>
                  <div class="muted">
                    {s.current
                      ? t('settings.thisDeviceLastUsed', { time: shortTime(s.last_used_at) })
                      : t('settings.lastUsed', { time: shortTime(s.last_used_at) })}
                  </div>
                </div>
                <button
                  type="button"
                  onClick={() => revoke(s)}
                  aria-label={
                    s.current
                      ? t('settings.signOutOfThis')
                      : t('settings.revokeSession', { device: describeAgent(s.user_agent), time: shortTime(s.last_used_at) })
                  }
                >
                  {s.current ? t('settings.signOut') : t('settings.revoke')}
                </button>
              </li>
            ))}
          </ul>
        )}
        <button type="button" class="danger" onClick={signOut}>
          {t('settings.signOut')}
        </button>
      </section>

      <section aria-labelledby="data">
        <h2 id="data" tabIndex={-1}>
          {t('settings.yourData')}
        </h2>
        <MediaLibrary headingLevel={3} />
        <DownloadYourData handle={me.handle} headingLevel={3} />
        <LegacyContactSection headingLevel={3} />
        <section aria-labelledby="moderation-h">
          <h3 id="moderation-h">{t('settings.reportsAndDecisions')}</h3>
          <ul class="link-list">
            <li>
              <a href="/me/reports" onClick={linkHandler}>
                {t('settings.myReports')}
              </a>{' '}
              <span class="muted">{t('settings.whatYouReportedAnd')}</span>
            </li>
            <li>
              <a href="/me/decisions" onClick={linkHandler}>
                {t('settings.decisionsAboutYou')}
              </a>{' '}
              <span class="muted">{t('settings.withTheReasonsAnd')}</span>
            </li>
            <li>
              <a href="/transparency" onClick={linkHandler}>
                {t('settings.transparencyReport')}
              </a>
            </li>
          </ul>
        </section>
        <DeleteAccount me={me} setMe={setMe} headingLevel={3} />
      </section>

      <section aria-labelledby="identity">
        <h2 id="identity" tabIndex={-1}>
          {t('settings.identity')}
        </h2>
        <PhoneVerification />
        <IdentityVerification />
      </section>
    </main>
  );
}

// Language names are written in their own language, so anyone can find theirs.
const languageNames: Record<Lang, string> = { en: 'English', 'zh-CN': '简体中文' };

const themeNames = words<Theme>({
  system: 'settings.theme.system',
  light: 'settings.theme.light',
  dark: 'settings.theme.dark',
});

function describeAgent(ua: string): string {
  if (!ua) return t('settings.unknownDevice');
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : '';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  if (browser && os) return t('settings.browserOnOs', { browser, os });
  return browser || os || ua.slice(0, 60);
}
