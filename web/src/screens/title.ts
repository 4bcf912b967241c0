// useTitle names a conversation: a group's title, or the other person's
// display name in a direct chat ("Deleted account" once theirs is gone).
import { useEffect, useState } from 'preact/hooks';
import { Conversation, goneAccount, profile } from '../api';
import { useSession } from '../app';
import { t } from '../i18n';

export function useTitle(c: Conversation | null): string {
  const { me } = useSession();
  const other = c?.kind === 'direct' ? c.member_ids.find((m) => m !== me.id) ?? me.id : null;
  const [name, setName] = useState('');
  useEffect(() => {
    if (!other) return;
    let live = true;
    profile(other).then(
      (p) => live && setName(p.display_name),
      (e) => live && setName(goneAccount(e) ? t('title.deletedAccount') : t('common.someone')),
    );
    return () => {
      live = false;
    };
  }, [other]);
  if (!c) return '';
  if (c.kind === 'group') return c.title || t('title.group');
  return name || '…';
}
