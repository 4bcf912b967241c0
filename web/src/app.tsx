// The app shell: who is signed in, the stream, the top bar and the routes.
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
import { ApplyChannel, ChannelPage, Channels } from './screens/Channels';
import { Console, consoleRoles } from './screens/Console';
import { AcceptTerms } from './screens/AcceptTerms';

export interface Session {
  me: Me;
  stream: Stream;
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

export function App() {
  const path = usePath();
  const [me, setMe] = useState<Me | null | undefined>(getToken() ? undefined : null);
  const [stream, setStream] = useState<Stream | null>(null);
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
        else setTermsNeeded(true);
      }),
    [forget],
  );

  // One stream per signed-in account.
  const meID = me?.id;
  useEffect(() => {
    if (!meID) return;
    const s = new Stream();
    setStream(s);
    return () => {
      s.close();
      setStream(null);
    };
  }, [meID]);

  const signedIn = (m: Me) => {
    setMe(m);
    setTermsNeeded(false);
    navigate('/', true);
  };

  const signOut = async () => {
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
        {loadError ? <p role="alert">Plaza cannot be reached. Reload the page to try again.</p> : <p>Loading…</p>}
      </main>
    );
  }

  if (me === null) {
    return (
      <div class="shell">
        <header class="topbar">
          <span class="brand">Plaza</span>
        </header>
        {path === '/register' ? <Register onSignedIn={signedIn} /> : <Login onSignedIn={signedIn} />}
      </div>
    );
  }

  if (!stream) return null;
  const session: Session = { me, stream, setMe, signOut };
  return (
    <SessionContext.Provider value={session}>
      <div class="shell">
        <TopBar path={path} />
        <ConnectionBanner stream={stream} />
        {termsNeeded ? <AcceptTerms onAccepted={() => setTermsNeeded(false)} /> : <Routes path={path} />}
      </div>
    </SessionContext.Provider>
  );
}

function Routes({ path }: { path: string }) {
  useEffect(() => {
    if (path === '/login' || path === '/register') navigate('/', true);
  }, [path]);
  const chat = path.match(/^\/chats\/(\d+)$/);
  if (chat) return <Chat key={chat[1]} id={chat[1]} />;
  const channel = path.match(/^\/channels\/(\d+)$/);
  if (channel) return <ChannelPage key={channel[1]} id={channel[1]} />;
  switch (path) {
    case '/':
    case '/login':
    case '/register':
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
    default:
      return (
        <main class="page">
          <h1>Not found</h1>
          <p>
            There is nothing at this address.{' '}
            <a href="/" onClick={linkHandler}>
              Go to your chats
            </a>
            .
          </p>
        </main>
      );
  }
}

function TopBar({ path }: { path: string }) {
  const { me } = useSession();
  const operator = me.roles?.some((r) => consoleRoles.includes(r));
  const item = (href: string, label: string, active: boolean, cls?: string) => (
    <a href={href} onClick={linkHandler} aria-current={active ? 'page' : undefined} class={cls}>
      {label}
    </a>
  );
  return (
    <header class="topbar">
      <span class="brand">Plaza</span>
      <nav aria-label="Main">
        {item('/', 'Chats', path === '/' || path.startsWith('/chats/') || path === '/new' || path === '/new-group')}
        {item('/contacts', 'Contacts', path === '/contacts')}
        {item('/channels', 'Channels', path.startsWith('/channels'))}
        {item('/settings', 'Settings', path === '/settings')}
        {operator && item('/console', 'Console', path === '/console', 'wide-only')}
      </nav>
    </header>
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
      {state === 'reconnecting' && <span class="conn-reconnecting">Reconnecting…</span>}
    </div>
  );
}
