// What a moderation decision shows on content: the moderators' label to
// everyone, and to the author alone that it was removed or limited, with
// a link to the statement of reasons.
import { Moderated } from '../moderation';
import { linkHandler } from '../router';
import { t } from '../i18n';
import { words } from '../words';

// The kinds of content a note can be on, as the screens name them.
const kinds = words({
  post: 'modNote.kind.post',
  reply: 'modNote.kind.reply',
  message: 'modNote.kind.message',
  'channel post': 'modNote.kind.channelPost',
  'public account': 'modNote.kind.publicAccount',
});

interface Props {
  m: Moderated;
  /** own is true when the viewer wrote the content: only they can open the decision. */
  own: boolean;
  /** what is the kind of content: "post", "reply", "message", "channel post" or "public account". */
  what?: string;
}

/** ModNote marks labelled, removed or limited content; it renders nothing for other content. */
export function ModNote({ m, own, what = 'post' }: Props) {
  // Removed and limited are the author's view; others see a label only
  // (a removed message reaches them as a tombstone, which its view shows).
  const removed = own && m.removed;
  const limited = own && m.limited && !m.removed;
  if (!m.label && !removed && !limited) return null;
  const link =
    own && m.decision_id ? (
      <>
        {' '}
        <a href={`/me/decisions/${m.decision_id}`} onClick={linkHandler}>
          {t('modNote.seeTheDecision')}
        </a>
      </>
    ) : null;
  return (
    <div class="mod-notes">
      {removed && (
        <p class="mod-note removed">
          <strong>{t('modNote.removedByAModerator')}</strong> {t('modNote.onlyYouCanSee', { what: (kinds as Record<string, string>)[what] ?? what })}{link}
        </p>
      )}
      {limited && (
        <p class="mod-note limited">
          <strong>{t('modNote.limitedByAModerator')}</strong>{' '}
          {what === 'post' || what === 'reply'
            ? t('modNote.keptOutOfSearch')
            : t('modNote.onlyItsFollowersOwner')}
          {link}
        </p>
      )}
      {m.label && (
        <p class="mod-note label">
          <span aria-hidden="true">ⓘ </span>
          <strong>{t('modNote.moderatorsNote')}</strong> <span>{m.label}</span>
          {!removed && !limited && link}
        </p>
      )}
    </div>
  );
}
