// The navigation around the screens. Wide screens get a rail on the left
// with every section; phones get a slim top bar (the brand and the
// notifications bell) and a tab bar at the bottom with the five sections a
// messenger needs every day. Both show the unread messages on Chats.
import { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useSession } from '../app';
import { t } from '../i18n';
import { BellIcon, ChannelsIcon, ChatsIcon, ConsoleIcon, ContactsIcon, Logo, MeIcon, MomentsIcon, SettingsIcon } from '../icons';
import { linkHandler } from '../router';
import { consoleRoles } from '../roles';

const microPaths = /^\/(timeline|posts|accounts|hashtags|trending|search)(\/|$)/;

const inChats = (p: string) => p === '/' || p.startsWith('/chats/') || p === '/new' || p === '/new-group';
const inMe = (p: string) => p === '/settings' || p.startsWith('/me/');

/** Brand is Plaza's mark and name, for the bars at the top. */
export function Brand() {
  return (
    <span class="brand">
      <Logo />
      <span>{t('shell.brand')}</span>
    </span>
  );
}

/** useChatUnread is the number of unread messages over all conversations. */
function useChatUnread(): number {
  const { chats } = useSession();
  const [n, setN] = useState(chats.unread);
  useEffect(() => {
    setN(chats.unread);
    return chats.onChange(() => setN(chats.unread));
  }, [chats]);
  return n;
}

function useNoticeUnread(): number {
  const { unread } = useSession();
  const [count, setCount] = useState(unread.count);
  useEffect(() => {
    setCount(unread.count);
    return unread.onChange(setCount);
  }, [unread]);
  return count;
}

const badgeText = (n: number) => (n > 99 ? '99+' : String(n));

interface ItemProps {
  href: string;
  label: string;
  icon: ComponentChildren;
  active: boolean;
  badge?: number;
  /** id names the visually hidden unread description; it is needed with a badge. */
  id?: string;
  extra?: ComponentChildren;
}

/** NavItem is one destination: an icon over its label, with an unread badge that screen readers hear as a description. */
function NavItem({ href, label, icon, active, badge = 0, id, extra }: ItemProps) {
  const described = badge > 0 && id ? `${id}-unread` : undefined;
  return (
    <>
      <a href={href} onClick={linkHandler} class="nav-item" aria-current={active ? 'page' : undefined} aria-describedby={described}>
        <span class="nav-icon">
          {icon}
          {badge > 0 && (
            <span class="badge" aria-hidden="true">
              {badgeText(badge)}
            </span>
          )}
        </span>
        <span class="nav-label">
          {label}
          {extra}
        </span>
      </a>
      {described && (
        <span id={described} class="visually-hidden">
          {t('shell.unreadMessages', { count: badge })}
        </span>
      )}
    </>
  );
}

function Bell({ path, withLabel }: { path: string; withLabel?: boolean }) {
  const count = useNoticeUnread();
  const name = count > 0 ? t('shell.notifications.unread', { count }) : t('shell.notifications');
  return (
    <a
      href="/notifications"
      onClick={linkHandler}
      aria-current={path === '/notifications' ? 'page' : undefined}
      class={withLabel ? 'nav-item bell' : 'bell'}
      aria-label={name}
      title={t('shell.notifications')}
    >
      <span class="nav-icon">
        <BellIcon />
        {count > 0 && (
          <span class="badge" aria-hidden="true">
            {badgeText(count)}
          </span>
        )}
      </span>
      {withLabel && (
        <span class="nav-label" aria-hidden="true">
          {t('shell.notifications')}
        </span>
      )}
    </a>
  );
}

/** TopBar is the phone's bar above every screen but an open conversation: the brand and the bell. */
export function TopBar({ path }: { path: string }) {
  return (
    <header class="topbar">
      <Brand />
      <Bell path={path} />
    </header>
  );
}

/** TabBar is the phone's bottom navigation: Chats, Contacts, Moments, Channels and Me. */
export function TabBar({ path }: { path: string }) {
  const unread = useChatUnread();
  return (
    <nav class="tabbar" aria-label={t('shell.nav.main')}>
      <NavItem href="/" label={t('shell.tab.chats')} icon={<ChatsIcon />} active={inChats(path)} badge={unread} id="tab-chats" />
      <NavItem href="/contacts" label={t('shell.tab.contacts')} icon={<ContactsIcon />} active={path === '/contacts'} />
      <NavItem href="/timeline" label={t('shell.tab.moments')} icon={<MomentsIcon />} active={microPaths.test(path)} />
      <NavItem href="/channels" label={t('shell.tab.channels')} icon={<ChannelsIcon />} active={path.startsWith('/channels')} />
      <NavItem
        href="/settings"
        label={t('shell.tab.me')}
        icon={<MeIcon />}
        active={inMe(path) || path === '/notifications' || path === '/console'}
        // "Me" holds the settings: screen readers hear that too.
        extra={<span class="visually-hidden">{t('shell.tab.meHint')}</span>}
      />
    </nav>
  );
}

/** NavRail is the wide screen's navigation down the left edge. */
export function NavRail({ path }: { path: string }) {
  const { me } = useSession();
  const unread = useChatUnread();
  const operator = me.roles?.some((r) => consoleRoles.includes(r));
  return (
    <header class="rail">
      <a href="/" onClick={linkHandler} class="rail-brand" aria-label={t('shell.brand')}>
        <Logo size={36} />
      </a>
      <nav aria-label={t('shell.nav.main')}>
        <NavItem href="/" label={t('shell.nav.chats')} icon={<ChatsIcon />} active={inChats(path)} badge={unread} id="rail-chats" />
        <NavItem href="/timeline" label={t('shell.nav.posts')} icon={<MomentsIcon />} active={microPaths.test(path)} />
        <NavItem href="/contacts" label={t('shell.nav.contacts')} icon={<ContactsIcon />} active={path === '/contacts'} />
        <NavItem href="/channels" label={t('shell.nav.channels')} icon={<ChannelsIcon />} active={path.startsWith('/channels')} />
        <span class="rail-gap" />
        <Bell path={path} withLabel />
        {operator && <NavItem href="/console" label={t('shell.nav.console')} icon={<ConsoleIcon />} active={path === '/console'} />}
        <NavItem href="/settings" label={t('shell.nav.settings')} icon={<SettingsIcon />} active={inMe(path)} />
      </nav>
    </header>
  );
}
