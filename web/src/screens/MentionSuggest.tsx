// @ autocomplete for a group's composer: typing @ and the start of a
// member's handle or name lists the matching members; Enter or a click
// completes the handle.
import { t } from '../i18n';

export interface Member {
  id: string;
  handle: string;
  display_name: string;
}

/** mentionQuery returns the "@abc" being typed just before the caret, or null. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = before.match(/(^|[^\p{L}\p{N}_.])@([\p{L}\p{N}_]{0,32})$/u);
  if (!m) return null;
  return { start: caret - m[2].length - 1, query: m[2].toLowerCase() };
}

/** matches lists up to 6 members whose handle or name starts with (or contains) query, the caller excluded. */
export function matches(members: Member[], query: string, meID: string): Member[] {
  const q = query.toLowerCase();
  const scored = members
    .filter((m) => m.id !== meID)
    .map((m) => {
      const h = m.handle.toLowerCase();
      const n = m.display_name.toLowerCase();
      const score = h.startsWith(q) ? 0 : n.startsWith(q) ? 1 : h.includes(q) || n.includes(q) ? 2 : -1;
      return { m, score };
    })
    .filter((x) => x.score >= 0)
    .sort((a, b) => a.score - b.score || a.m.handle.localeCompare(b.m.handle));
  return scored.slice(0, 6).map((x) => x.m);
}

/** complete replaces the @query being typed with @handle and a space, returning the text and the new caret. */
export function complete(text: string, at: { start: number; query: string }, handle: string): { text: string; caret: number } {
  const end = at.start + 1 + at.query.length;
  const ins = `@${handle} `;
  return { text: text.slice(0, at.start) + ins + text.slice(end), caret: at.start + ins.length };
}

export function MentionSuggest(props: { items: Member[]; active: number; onPick: (m: Member) => void; id: string }) {
  if (props.items.length === 0) return null;
  return (
    <ul class="mention-suggest" role="listbox" id={props.id} aria-label={t('messages.mentionSuggestions')}>
      {props.items.map((m, i) => (
        <li
          key={m.id}
          id={`${props.id}-${i}`}
          role="option"
          aria-selected={i === props.active}
          class={i === props.active ? 'active' : undefined}
          onMouseDown={(e) => {
            e.preventDefault(); // keep the composer's focus
            props.onPick(m);
          }}
        >
          <strong>{m.display_name}</strong> <span class="muted">@{m.handle}</span>
        </li>
      ))}
    </ul>
  );
}
