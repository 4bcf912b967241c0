// Settings › Media: everything one uploaded, newest first, with the space
// it takes against the quota, and deleting an item after asking. Deleting
// frees the quota at once; a sent message keeps showing the item to its
// conversation until the message is recalled, which the dialog says.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, List, MediaItem, MediaUsage } from '../api';
import { ConfirmDialog } from '../confirm';
import { formatDuration, mediaURL } from '../media';
import { ErrorBox, formatBytes, longDay } from '../ui';
import { t } from '../i18n';
import { words } from '../words';

const kindNames = words<MediaItem['kind']>({
  image: 'mediaLibrary.kind.image',
  video: 'mediaLibrary.kind.video',
  audio: 'mediaLibrary.kind.audio',
  file: 'mediaLibrary.kind.file',
});

/** describe names an item in a few words: "Photo, 1.2 MB, 5 Dec 2025". */
function describe(m: MediaItem): string {
  return t('mediaLibrary.describe', { kind: kindNames[m.kind] ?? kindNames.file, size: formatBytes(m.size), date: longDay(m.created_at) });
}

/** MediaLibrary is the Media section of Settings. */
export function MediaLibrary({ headingLevel = 2 }: { headingLevel?: 2 | 3 }) {
  const H = headingLevel === 2 ? 'h2' : 'h3';
  const [items, setItems] = useState<MediaItem[] | null>(null);
  const [cursor, setCursor] = useState('');
  const [usage, setUsage] = useState<MediaUsage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [asking, setAsking] = useState<MediaItem | null>(null);
  const [busy, setBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  // Where the focus goes when the dialog closes: back to the Delete
  // button, or to the heading once that button is gone with its row.
  const focusAfter = useRef<HTMLElement | null>(null);

  const loadUsage = () => api<MediaUsage>('GET', '/me/media-usage').then(setUsage, setError);
  const load = async (before: string) => {
    try {
      const l = await api<List<MediaItem>>('GET', `/me/media?limit=20${before ? `&before=${encodeURIComponent(before)}` : ''}`);
      setItems((cur) => [...(before ? cur ?? [] : []), ...l.items]);
      setCursor(l.next_cursor ?? '');
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    load('');
    loadUsage();
  }, []);

  const ask = (m: MediaItem, e: Event) => {
    focusAfter.current = e.currentTarget as HTMLButtonElement;
    setDeleteError(null);
    setDone('');
    setAsking(m);
  };
  const cancel = () => setAsking(null);
  const remove = async () => {
    if (!asking || busy) return;
    setBusy(true);
    setDeleteError(null);
    try {
      await api('DELETE', `/media/${asking.id}`);
      setItems((cur) => cur?.filter((m) => m.id !== asking.id) ?? null);
      setDone(t('mediaLibrary.deleted', { what: describe(asking) }));
      focusAfter.current = heading.current;
      setAsking(null);
      loadUsage();
    } catch (e) {
      // Already deleted elsewhere: it is gone either way.
      if ((e as { status?: number }).status === 404) {
        setItems((cur) => cur?.filter((m) => m.id !== asking.id) ?? null);
        focusAfter.current = heading.current;
        setAsking(null);
      } else {
        setDeleteError(e);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="media-h">
      <H id="media-h" ref={heading} tabIndex={-1}>
        {t('mediaLibrary.media')}
      </H>
      {usage && (
        <div class="media-usage">
          <label for="media-usage-meter">
            {t('mediaLibrary.storageUsed', { used: formatBytes(usage.used_bytes), quota: formatBytes(usage.quota_bytes) })}
          </label>
          <meter id="media-usage-meter" min={0} max={usage.quota_bytes} value={usage.used_bytes} high={usage.quota_bytes * 0.9} />
          {usage.reserved_bytes > 0 && <p class="hint">{t('mediaLibrary.uploadsInProgressHold', { size: formatBytes(usage.reserved_bytes) })}</p>}
        </div>
      )}
      <p class="hint">
        {t('mediaLibrary.deletingFreesItsSpace')}
      </p>
      <p role="status" class="media-done">
        {done}
      </p>
      <ErrorBox error={error} />
      {items === null ? (
        !error && <p>{t('mediaLibrary.loading')}</p>
      ) : items.length === 0 ? (
        <p class="empty">{t('mediaLibrary.youHaveNotUploaded')}</p>
      ) : (
        <ul class="media-list" aria-label={t('mediaLibrary.yourMedia')}>
          {items.map((m) => (
            <MediaRow key={m.id} m={m} onDelete={(e) => ask(m, e)} />
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" onClick={() => load(cursor)}>
          {t('mediaLibrary.showMore')}
        </button>
      )}
      {asking && (
        <ConfirmDialog
          id="media-delete"
          title={t('mediaLibrary.deleteThisV', { kind: (kindNames[asking.kind] ?? kindNames.file).toLowerCase() })}
          confirmLabel={t('mediaLibrary.delete')}
          busyLabel={t('mediaLibrary.deleting')}
          busy={busy}
          error={deleteError}
          onConfirm={remove}
          onCancel={cancel}
          focusAfter={focusAfter}
        >
          <p>
            {t('mediaLibrary.deletingFrees', { what: describe(asking), size: formatBytes(asking.size) })}
          </p>
          {asking.in_messages ? (
            <p>
              {t('mediaLibrary.youSentItIn')}
            </p>
          ) : (
            <p>{t('mediaLibrary.itDisappearsFromAny')}</p>
          )}
        </ConfirmDialog>
      )}
    </section>
  );
}

/** MediaRow is one item: a thumbnail for photos and videos, what it is, and Delete. */
function MediaRow({ m, onDelete }: { m: MediaItem; onDelete: (e: Event) => void }) {
  const [thumb, setThumb] = useState('');
  useEffect(() => {
    if (!m.has_thumbnail) return;
    let live = true;
    mediaURL(m.id, true).then(
      (u) => live && setThumb(u),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [m.id, m.has_thumbnail]);
  const name = describe(m);
  return (
    <li class="media-row">
      <span class="media-thumb" aria-hidden="true">
        {thumb ? <img src={thumb} alt="" /> : <span class="media-kind">{kindIcon[m.kind] ?? '📄'}</span>}
      </span>
      <span class="media-info">
        <span class="media-name">{kindNames[m.kind] ?? t('mediaLibrary.file')}</span>
        <span class="muted">
          {formatBytes(m.size)}
          {m.kind === 'image' && m.width > 0 ? ` · ${m.width}×${m.height}` : ''}
          {m.duration_ms > 0 ? ` · ${formatDuration(m.duration_ms)}` : ''} · <time dateTime={m.created_at}>{longDay(m.created_at)}</time>
        </span>
        {m.in_messages && <span class="muted small">{t('mediaLibrary.sentInAChat')}</span>}
      </span>
      <button type="button" class="link-button danger-inline" onClick={onDelete} aria-haspopup="dialog" aria-label={t('mediaLibrary.deleteName', { name })}>
        {t('mediaLibrary.delete')}
      </button>
    </li>
  );
}

const kindIcon: Record<string, string> = { image: '🖼', video: '🎞', audio: '🎙', file: '📄' };
