// An emoji picker of plain Unicode characters: the system's own glyphs, no
// images fetched from anywhere. Arrow keys move within the grid.
import { useRef } from 'preact/hooks';
import { t } from '../i18n';

const groups: { key: 'emoji.smileys' | 'emoji.people' | 'emoji.nature' | 'emoji.food' | 'emoji.things'; chars: string }[] = [
  { key: 'emoji.smileys', chars: '😀😃😄😁😆😅😂🤣😊😇🙂😉😌😍🥰😘😋😛😜🤪🤗🤔🤨😐😑😶🙄😏😴😮😲😳🥺😢😭😤😠😡🤯😱😨😰😓🤭🤫😷🤒🤕🥳😎🤓' },
  { key: 'emoji.people', chars: '👍👎👌✌🤞🤝🙏👏🙌👋💪🫶❤🧡💛💚💙💜🖤💔💯✨🔥🎉🎊🎁🎂' },
  { key: 'emoji.nature', chars: '🌞🌙⭐🌈☔❄🌸🌹🌻🍀🌲🐶🐱🐼🐻🐰🦊🐯🐮🐷🐸🐵🐔🐧🐦🐟🐬' },
  { key: 'emoji.food', chars: '🍎🍊🍋🍉🍇🍓🍑🍒🥭🍍🥝🍅🍆🥑🌽🍚🍜🍲🍣🍤🥟🍰🍦🍪☕🍵🍺🍷' },
  { key: 'emoji.things', chars: '📱💻⌚📷🎧🎮⚽🏀🚗🚄✈🏠🏫🏥💡📚✏📅📌🔔🎵🧧🏮🧨' },
];

export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const grid = useRef<HTMLDivElement>(null);
  const move = (e: KeyboardEvent) => {
    const buttons = [...(grid.current?.querySelectorAll('button') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const step: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 };
    if (e.key === 'Escape') {
      e.preventDefault();
      onClose();
    } else if (step[e.key] && at >= 0) {
      e.preventDefault();
      buttons[Math.min(buttons.length - 1, Math.max(0, at + step[e.key]))]?.focus();
    }
  };
  return (
    <div class="emoji-picker" role="dialog" aria-label={t('emoji.title')} ref={grid} onKeyDown={move}>
      {groups.map((g) => (
        <section key={g.key} aria-label={t(g.key)}>
          <h3>{t(g.key)}</h3>
          <div class="emoji-grid">
            {[...g.chars].filter((c) => c !== '\uFE0F').map((c) => (
              <button type="button" key={c} onClick={() => onPick(c)} aria-label={c}>
                {c}
              </button>
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}
