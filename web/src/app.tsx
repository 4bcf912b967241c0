// The app shell: who is signed in, the stream, the navigation (a rail on
// wide screens, a tab bar on phones) and the routes; on wide screens the
// chats show as two panes, the list beside the open conversation.
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { api, ApiError, getToken, Me, onAuthProblem, setToken } from './api';
import { linkHandler, navigate, usePath } from './router';
import { Stream, StreamState } from './stream';
import { Register } from './screens/Register';
import { Login } from './screens/Login';
import { Settings } from './screens/Settings';
import { ChatList } from './screens/ChatList';
import { Chat } from './screens/Chat';
import { NewChat } from './screens/NewChat';
import { NewGroup } from './screens/NewGroup';
import { Contacts } from './screens/Contacts';
import { AddByInvite } from './screens/Invites';
import { ApplyChannel, ChannelPage, Channels } from './screens/Channels';
import { lazy } from './lazy';
import { AcceptTerms } from './screens/AcceptTerms';
import { Timeline } from './screens/Timeline';
import { PostPage } from './screens/PostPage';
import { FollowList, ProfilePage } from './screens/Profile';
import { HashtagPage, SearchPosts, Trending } from './screens/Discover';
import { Notifications } from './screens/Notifications';
import { DecisionList, DecisionPage, MyReports } from './screens/Decisions';
import { Restricted } from './screens/Restricted';
import { TransparencyPage } from './screens/Transparency';
import { Unread } from './unread';
import { DeletionBanner } from './screens/YourData';
import { Lang, t } from './i18n';
import { Chats } from './chats';
import './themecolor';
import { useWide } from './layout';
import { ChatsIcon } from './icons';
import { Brand, NavRail, TabBar, TopBar } from './screens/Shell';

// The operator console is loaded only when opened: most people never do.
const Console = lazy(() => import('./screens/Console').then((m) => m.Console));

export interface Session {
  me: Me;
  stream: Stream;
  unread: Unread;
  /** chats is the conversation list, shared by the list screen and the unread badge. */
  chats: Chats;
  setMe: (me: Me) => void;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

/** useSession returns the signed-in session; only screens behind sign-in call it. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in screen');
  return s;
}

// lang is passed only so that a change of language re-renders the app.
export function App(_props: { lang?: Lang }) {
  const path = usePath();
  const [me, setMe] = useState<Me | null | undefined>(getToken() ? undefined : null);
  const [live, setLive] = useState<{ stream: Stream; unread: Unread; chats: Chats } | null>(null);
  const wide = useWide();
  const [termsNeeded, setTermsNeeded] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);

  const forget = useCallback(() => {
    setToken(null);
    setMe(null);
    setTermsNeeded(false);
  }, []);

  // Restore the session of an earlier visit.
  useEffect(() => {
    if (me !== undefined) return;
    api<Me>('GET', '/me')
      .then((m) => {
        setMe(m);
        setTermsNeeded(m.terms?.reconsent_required ?? false);
      })
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401) forget();
        else setLoadError(e);
      });
  }, [me, forget]);

  useEffect(
    () =>
      onAuthProblem((e) => {
        if (e.code === 'unauthenticated') forget();
        else if (e.code === 'terms_acceptance_required') setTermsNeeded(true);
        // Suspended or closed meanwhile: the account's state decides what the app shows.
        else api<Me>('GET', '/me').then(setMe, () => {});
      }),
    [forget],
  );

  // One stream per signed-in account that may use it: the server refuses
  // suspended and closed accounts one.
  const meID = me?.id;
  const restricted = me?.status === 'suspended' || me?.status === 'closed';
  useEffect(() => {
    if (!meID || restricted) return;
    const s = new Stream();
    const u = new Unread(s);
    const c = new Chats(s);
    setLive({ stream: s, unread: u, chats: c });
    return () => {
      c.close();
      u.close();
      s.close();
      setLive(null);
    };
  }, [meID, restricted]);

  const signedIn = (m: Me, to = '/') => {
    setMe(m);
    setTermsNeeded(false);
    navigate(to, true);
  };

  const signOut = async () => {
    // Close this device's stream first: the server ends it with 4001 as
    // the session goes, and the stream would then ask for the account
    // with a token that no longer works.
    live?.stream.close();
    try {
      await api('DELETE', '/sessions/current');
    } catch {
      // Signing out locally is what matters; the session expires anyway.
    }
    forget();
    navigate('/login', true);
  };

  if (me === undefined) {
    return (
      <main class="center" aria-busy="true">
        {loadError ? <p role="alert">{t('app.unreachable')}</p> : <p>{t('app.loading')}</p>}
      </main>
    );
  }

  if (me === null) {
    return (
      <div class="shell signed-out">
        <header class="topbar brandbar">
          <Brand />
          {path === '/transparency' && (
            <nav aria-label={t('shell.nav.main')}>
              <a href="/login" onClick={linkHandler}>
                {t('shell.signIn')}
              </a>
            </nav>
          )}
        </header>
        {path === '/transparency' ? (
          <TransparencyPage />
        ) : path === '/register' ? (
          <Register onSignedIn={signedIn} />
        ) : path === '/setup' ? (
          // The token rides in the fragment, which never reaches a server
          // log or another site's Referer.
          <Register setupToken={location.hash.slice(1)} onSignedIn={(m) => signedIn(m, '/console')} />
        ) : (
          <Login onSignedIn={signedIn} />
        )}
      </div>
    );
  }

  if (restricted) {
    return <RestrictedShell me={me} path={path} setMe={setMe} signOut={signOut} />;
  }

  if (!live) return null;
  const { stream, unread, chats } = live;
  const session: Session = { me, stream, unread, chats, setMe, signOut };
  // On a phone an open conversation takes the whole screen: its own header
  // has the way back, and the tab bar would only take room from the messages.
  const fullScreen = !wide && chatPath.test(path);
  return (
    <SessionContext.Provider value={session}>
      <div class={wide ? 'shell wide' : 'shell narrow'}>
        {wide ? <NavRail path={path} /> : !fullScreen && <TopBar path={path} />}
        <div class="main-col">
          <ConnectionBanner stream={stream} />
          <DecisionBanner stream={stream} path={path} setMe={setMe} />
          {path !== '/settings' && <DeletionBanner me={me} setMe={setMe} />}
          {termsNeeded ? <AcceptTerms onAccepted={() => setTermsNeeded(false)} /> : <Routes path={path} wide={wide} />}
        </div>
        {!wide && !fullScreen && <TabBar path={path} />}
      </div>
    </SessionContext.Provider>
  );
}

const chatPath = /^\/chats\/(\d+)$/;

/** isChatSection reports whether a path belongs to the chats: the list, a conversation, or starting one. */
export function isChatSection(path: string): boolean {
  return path === '/' || chatPath.test(path) || path === '/new' || path === '/new-group';
}

/**
 * ChatPanes is the chats section on a wide screen: the list on the left,
 * the open conversation (or starting one, or an empty state) on the right.
 */
function ChatPanes({ path }: { path: string }) {
  const chat = path.match(chatPath);
  return (
    <div class="panes">
      <ChatList pane selected={chat?.[1]} />
      <div class="pane-main">
        {chat ? (
          <Chat key={chat[1]} id={chat[1]} />
        ) : path === '/new' ? (
          <NewChat />
        ) : path === '/new-group' ? (
          <NewGroup />
        ) : (
          <main class="pane-empty" aria-labelledby="pane-empty-title">
            <ChatsIcon size={56} />
            <h1 id="pane-empty-title">{t('shell.empty.title')}</h1>
            <p class="muted">{t('shell.empty.hint')}</p>
          </main>
        )}
      </div>
    </div>
  );
}

function Routes({ path, wide }: { path: string; wide: boolean }) {
  useEffect(() => {
    if (path === '/login' || path === '/register' || path === '/setup') navigate('/', true);
  }, [path]);
  const add = path.match(/^\/add\/([A-Za-z0-9_-]+)$/);
  if (add) return <AddByInvite key={add[1]} token={add[1]} />;
  if (wide && isChatSection(path)) return <ChatPanes path={path} />;
  const chat = path.match(chatPath);
  if (chat) return <Chat key={chat[1]} id={chat[1]} />;
  const channel = path.match(/^\/channels\/(\d+)$/);
  if (channel) return <ChannelPage key={channel[1]} id={channel[1]} />;
  const decision = path.match(/^\/me\/decisions\/(\d+)$/);
  if (decision) return <DecisionPage key={decision[1]} id={decision[1]} />;
  const post = path.match(/^\/posts\/(\d+)$/);
  if (post) return <PostPage key={post[1]} id={post[1]} />;
  const account = path.match(/^\/accounts\/(\d+)(?:\/(followers|following))?$/);
  if (account) {
    const which = account[2] as 'followers' | 'following' | undefined;
    return which ? <FollowList key={path} id={account[1]} which={which} /> : <ProfilePage key={account[1]} id={account[1]} />;
  }
  const hashtag = path.match(/^\/hashtags\/([^/]+)$/);
  const tag = hashtag && decodePath(hashtag[1]);
  if (tag) return <HashtagPage key={tag} tag={tag} />;
  switch (path) {
    case '/':
    case '/login':
    case '/register':
    case '/setup':
      return <ChatList />;
    case '/settings':
      return <Settings />;
    case '/new':
      return <NewChat />;
    case '/new-group':
      return <NewGroup />;
    case '/contacts':
      return <Contacts />;
    case '/channels':
      return <Channels />;
    case '/channels/apply':
      return <ApplyChannel />;
    case '/console':
      return <Console />;
    case '/timeline':
      return <Timeline />;
    case '/trending':
      return <Trending />;
    case '/search':
      return <SearchPosts />;
    case '/notifications':
      return <Notifications />;
    case '/me/reports':
      return <MyReports />;
    case '/me/decisions':
      return <DecisionList />;
    case '/transparency':
      return <TransparencyPage />;
    default:
      return (
        <main class="page">
          <h1>{t('shell.notFound.title')}</h1>
          <p>
            {t('shell.notFound.text')}{' '}
            <a href="/" onClick={linkHandler}>
              {t('shell.notFound.link')}
            </a>
          </p>
        </main>
      );
  }
}

/** decodePath decodes one percent-encoded path segment; a malformed one is null. */
function decodePath(seg: string): string | null {
  try {
    return decodeURIComponent(seg);
  } catch {
    return null;
  }
}

/**
 * DecisionBanner tells the person at once when a moderator decided about
 * them or their content (a moderation.* frame), with a link to the
 * statement of reasons; the account is read again, since a suspension or
 * closure changes what the app may show.
 */
function DecisionBanner({ stream, path, setMe }: { stream: Stream; path: string; setMe: (m: Me) => void }) {
  const [id, setID] = useState('');
  useEffect(
    () =>
      stream.onFrame((f) => {
        if (!f.type.startsWith('moderation.')) return;
        const d = f.data ?? {};
        // Only the person a decision concerns gets moderation.decision; other
        // moderation frames (an appeal's outcome) name the decision too.
        const decision = String(d.decision_id ?? d.decision?.id ?? (f.type === 'moderation.decision' ? d.id ?? '' : ''));
        if (decision) setID(decision);
        api<Me>('GET', '/me').then(setMe, () => {});
      }),
    [stream, setMe],
  );
  const shown = id && path !== `/me/decisions/${id}`;
  return (
    <div role="status" aria-live="polite" class="decision-banner-wrap">
      {shown && (
        <div class="decision-banner">
          <span>{t('shell.decision.text')}</span>{' '}
          <a href={`/me/decisions/${id}`} onClick={(e) => { setID(''); linkHandler(e); }}>
            {t('shell.decision.link')}
          </a>
          <button type="button" onClick={() => setID('')} aria-label={t('shell.decision.dismiss')}>
            ×
          </button>
        </div>
      )}
    </div>
  );
}

function ConnectionBanner({ stream }: { stream: Stream }) {
  const [state, setState] = useState<StreamState>(stream.state);
  useEffect(() => {
    setState(stream.state);
    return stream.onState(setState);
  }, [stream]);
  return (
    <div class="conn" role="status" aria-live="polite">
      {state === 'reconnecting' && <span class="conn-reconnecting">{t('shell.reconnecting')}</span>}
    </div>
  );
}

interface RestrictedProps {
  me: Me;
  path: string;
  setMe: (me: Me) => void;
  signOut: () => Promise<void>;
}

/**
 * RestrictedShell is the whole app for a suspended or closed account: the
 * decision that restricted it (with the appeal), the other decisions, the
 * public transparency report, downloading its data, deleting it, and
 * signing out.
 */
function RestrictedShell({ me, path, setMe, signOut }: RestrictedProps) {
  const recheck = () => api<Me>('GET', '/me').then(setMe, () => {});
  const decision = path.match(/^\/me\/decisions\/(\d+)$/);
  let body;
  if (decision) body = <DecisionPage key={decision[1]} id={decision[1]} />;
  else if (path === '/me/decisions') body = <DecisionList />;
  else if (path === '/me/reports') body = <MyReports />;
  else if (path === '/transparency') body = <TransparencyPage />;
  else body = <Restricted me={me} setMe={setMe} onRecheck={recheck} signOut={signOut} />;
  const item = (href: string, label: string, active: boolean) => (
    <a href={href} onClick={linkHandler} aria-current={active ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <div class="shell restricted-shell">
      <header class="topbar brandbar">
        <Brand />
        <nav aria-label={t('shell.nav.main')}>
          {item('/', t('shell.restricted.account'), !decision && !path.startsWith('/me/') && path !== '/transparency')}
          {item('/me/decisions', t('shell.restricted.decisions'), !!decision || path.startsWith('/me/'))}
        </nav>
      </header>
      {!(body.type === Restricted) && <DeletionBanner me={me} setMe={setMe} />}
      {body}
    </div>
  );
}
