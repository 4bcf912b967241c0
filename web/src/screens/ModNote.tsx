// What a moderation decision shows on content: the moderators' label to
// everyone, and to the author alone that it was removed or limited, with
// a link to the statement of reasons.
import { Moderated } from '../moderation';
import { linkHandler } from '../router';

interface Props {
  m: Moderated;
  /** own is true when the viewer wrote the content: only they can open the decision. */
  own: boolean;
  /** what names the content: "post", "message". */
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
          See the decision
        </a>
      </>
    ) : null;
  return (
    <div class="mod-notes">
      {removed && (
        <p class="mod-note removed">
          <strong>Removed by a moderator.</strong> Only you can see this {what}.{link}
        </p>
      )}
      {limited && (
        <p class="mod-note limited">
          <strong>Limited by a moderator.</strong>{' '}
          {what === 'post' || what === 'reply'
            ? 'Kept out of search, trending and hashtag pages; only you and your followers see it.'
            : 'Only its followers, owner and editors see it, and it is left out of search.'}
          {link}
        </p>
      )}
      {m.label && (
        <p class="mod-note label">
          <span aria-hidden="true">ⓘ </span>
          <strong>Moderators’ note:</strong> <span>{m.label}</span>
          {!removed && !limited && link}
        </p>
      )}
    </div>
  );
}
