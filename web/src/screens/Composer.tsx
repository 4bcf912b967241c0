// The post composer: text with a live counter in code points (the server's
// unit, so 😀 and 汉 count one each), up to nine photos uploaded as soon as
// they are picked (with progress, retry and removal), who may see the post,
// and the server's refusals shown beside the field they name. The same form
// writes replies, which take the visibility of the post they answer.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, newClientID } from '../api';
import { explain } from '../errors';
import { Media, uploadMedia } from '../media';
import { codePoints, fieldOf, MAX_PHOTOS, MicroPost, TEXT_LIMIT, Visibility, visibilityHints, visibilityWords } from '../microblog';
import { ErrorBox } from '../ui';
import { formatNumber, t } from '../i18n';

interface Slot {
  key: string;
  name: string;
  preview: string;
  progress: number;
  mediaID?: string;
  error?: unknown;
}

interface ComposerProps {
  /** replyTo makes the form a reply box for that post. */
  replyTo?: MicroPost;
  onPosted: (p: MicroPost) => void;
  /** idPrefix keeps element IDs unique when two composers share a page. */
  idPrefix?: string;
}

const known = new Set(['text', 'media_ids', 'visibility']);

export function PostComposer({ replyTo, onPosted, idPrefix = 'compose' }: ComposerProps) {
  const [text, setText] = useState('');
  const [visibility, setVisibility] = useState<Visibility>('public');
  const [photos, setPhotos] = useState<Slot[]>([]);
  const [photoNote, setPhotoNote] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  const uploads = useRef(new Map<string, Promise<string>>());
  const picker = useRef<HTMLInputElement>(null);
  const photosRef = useRef<Slot[]>([]);
  photosRef.current = photos;

  // Leaving the page lets the previews go.
  useEffect(() => () => photosRef.current.forEach((s) => URL.revokeObjectURL(s.preview)), []);

  const used = codePoints(text);
  const over = used - TEXT_LIMIT;
  const uploading = photos.some((s) => !s.mediaID && !s.error);
  const empty = !text.trim() && photos.length === 0;
  const id = (s: string) => `${idPrefix}-${s}`;

  const patch = (key: string, change: Partial<Slot>) => setPhotos((cur) => cur.map((s) => (s.key === key ? { ...s, ...change } : s)));

  const upload = (key: string, file: File) => {
    const p = uploadMedia(file, file.name || 'photo', (f) => patch(key, { progress: f })).then(
      (m: Media) => {
        if (m.kind !== 'image') {
          // Only photos go in a post; anything else is freed again.
          api('DELETE', `/media/${m.id}`).catch(() => {});
          throw new ApiError(415, 'unsupported_media_type', 'not a photo');
        }
        patch(key, { mediaID: m.id, progress: 1 });
        return m.id;
      },
    );
    p.catch((e) => patch(key, { error: e }));
    uploads.current.set(key, p);
  };

  const files = useRef(new Map<string, File>());
  const pick = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const chosen = Array.from(input.files ?? []);
    input.value = '';
    const room = MAX_PHOTOS - photos.length;
    const take = chosen.slice(0, Math.max(0, room));
    setPhotoNote(chosen.length > take.length ? t('composer.aPostHoldsAt', { max: MAX_PHOTOS, skipped: chosen.length - take.length }) : '');
    setFields((f) => ({ ...f, media_ids: '' }));
    const slots = take.map((file) => {
      const key = newClientID();
      files.current.set(key, file);
      upload(key, file);
      return { key, name: file.name || 'photo', preview: URL.createObjectURL(file), progress: 0 };
    });
    setPhotos((cur) => [...cur, ...slots]);
  };

  const retry = (s: Slot) => {
    const file = files.current.get(s.key);
    if (!file) return;
    patch(s.key, { error: undefined, progress: 0 });
    upload(s.key, file);
  };

  const removePhoto = (s: Slot) => {
    URL.revokeObjectURL(s.preview);
    uploads.current.delete(s.key);
    files.current.delete(s.key);
    setPhotos((cur) => cur.filter((x) => x.key !== s.key));
    setPhotoNote('');
    // The upload is not used by any post: free it.
    if (s.mediaID) api('DELETE', `/media/${s.mediaID}`).catch(() => {});
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || over > 0 || empty) return;
    setBusy(true);
    setError(null);
    setFields({});
    setNote('');
    try {
      let mediaIDs: string[];
      try {
        mediaIDs = await Promise.all(photos.map((s) => uploads.current.get(s.key)!));
      } catch {
        setFields({ media_ids: t('composer.aPhotoCouldNot') });
        return;
      }
      const body: Record<string, unknown> = { text, media_ids: mediaIDs, visibility: replyTo ? replyTo.visibility : visibility };
      if (replyTo) body.reply_to = replyTo.id;
      const p = await api<MicroPost>('POST', '/posts', body);
      photos.forEach((s) => URL.revokeObjectURL(s.preview));
      uploads.current.clear();
      files.current.clear();
      setPhotos([]);
      setText('');
      setPhotoNote('');
      setNote(p.status === 'pending_review' ? t('composer.sentForReviewOthers') : replyTo ? t('composer.replied') : t('composer.posted'));
      onPosted(p);
    } catch (err) {
      const f = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
      const mine: Record<string, string> = {};
      const rest: string[] = [];
      for (const [k, v] of Object.entries(f)) {
        const at = fieldOf(k);
        if (known.has(at)) mine[at] = mine[at] ? `${mine[at]}; ${v}` : v;
        else rest.push(`${k}: ${v}`);
      }
      setFields(mine);
      if (rest.length || !Object.keys(mine).length) setError(err);
    } finally {
      setBusy(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.isComposing) submit(e);
  };

  const describe = [id('count'), fields.text && id('text-error')].filter(Boolean).join(' ');
  const label = replyTo ? t('composer.replyText') : t('composer.postText');
  return (
    <form class={replyTo ? 'mb-compose reply' : 'mb-compose'} onSubmit={submit} aria-label={replyTo ? t('composer.reply') : t('composer.newPost')}>
      <div class={fields.text || over > 0 ? 'field field-invalid' : 'field'}>
        <label for={id('text')} class="visually-hidden">
          {label}
        </label>
        <textarea
          id={id('text')}
          rows={replyTo ? 2 : 3}
          placeholder={replyTo ? t('composer.writeAReply') : t('composer.whatsHappening')}
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value);
            if (fields.text) setFields((f) => ({ ...f, text: '' }));
          }}
          onKeyDown={onKeyDown}
          aria-invalid={fields.text || over > 0 ? true : undefined}
          aria-describedby={describe}
        />
        <div class="mb-compose-meta">
          <span id={id('count')} class={over > 0 ? 'counter over' : used > TEXT_LIMIT - 100 ? 'counter near' : 'counter'}>
            <span aria-hidden="true">
              {formatNumber(used)} / {formatNumber(TEXT_LIMIT)}
            </span>
            <span class="visually-hidden">
              {t('composer.used', { used, limit: TEXT_LIMIT })}
            </span>
          </span>
          <span role="status" class="counter-over">
            {over > 0 ? t('composer.overLimit', { count: over }) : ''}
          </span>
        </div>
        {fields.text && (
          <p class="field-error" id={id('text-error')}>
            {fields.text}
          </p>
        )}
      </div>

      {photos.length > 0 && (
        <ul class="mb-slots" aria-label={t('composer.photosToPost')}>
          {photos.map((s, i) => (
            <li key={s.key} class={s.error ? 'mb-slot failed' : 'mb-slot'}>
              <img src={s.preview} alt={t('composer.photoVName', { n: i + 1, name: s.name })} />
              {!s.mediaID && !s.error && (
                <progress max={1} value={s.progress} aria-label={t('composer.uploadingPhotoV', { n: i + 1 })} />
              )}
              {s.error ? (
                <span class="mb-slot-error" role="alert">
                  {explain(s.error).title}{' '}
                  <button type="button" onClick={() => retry(s)}>
                    {t('composer.retry')}
                  </button>
                </span>
              ) : null}
              <button type="button" class="mb-slot-remove" onClick={() => removePhoto(s)} aria-label={t('composer.removePhotoV', { n: i + 1 })}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {(fields.media_ids || photoNote) && (
        <p class="field-error" id={id('media-error')}>
          {fields.media_ids || photoNote}
        </p>
      )}

      {!replyTo && (
        <fieldset class="mb-visibility" aria-describedby={fields.visibility ? id('vis-error') : id('vis-hint')}>
          <legend class="visually-hidden">{t('composer.whoCanSeeThis')}</legend>
          {(Object.keys(visibilityWords) as Visibility[]).map((v) => (
            <label key={v} class={visibility === v ? 'seg on' : 'seg'}>
              <input type="radio" name={id('vis')} value={v} checked={visibility === v} onChange={() => setVisibility(v)} />
              {visibilityWords[v]}
            </label>
          ))}
        </fieldset>
      )}
      {!replyTo &&
        (fields.visibility ? (
          <p class="field-error" id={id('vis-error')}>
            {fields.visibility}
          </p>
        ) : (
          <p class="hint" id={id('vis-hint')}>
            {visibilityHints[visibility]}
          </p>
        ))}

      <ErrorBox error={error} />
      <div class="row mb-compose-actions">
        <input ref={picker} id={id('photos')} type="file" accept="image/*" multiple hidden onChange={pick} aria-label={t('composer.photosToAdd')} />
        <button
          type="button"
          class="icon"
          onClick={() => picker.current?.click()}
          disabled={photos.length >= MAX_PHOTOS}
          aria-label={t('composer.addPhotosLengthOf', { n: photos.length, max: MAX_PHOTOS })}
          title={t('composer.addPhotos')}
          aria-describedby={fields.media_ids || photoNote ? id('media-error') : undefined}
        >
          <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><rect x="3" y="5" width="18" height="14" rx="2" /><circle cx="9" cy="10" r="1.8" /><path d="M21 16l-5-5-8 8" /></svg>
          {photos.length > 0 && <span class="mb-photo-count"> {photos.length}/{MAX_PHOTOS}</span>}
        </button>
        <span class="muted mb-note" role="status">
          {busy ? (uploading ? t('composer.uploadingPhotos') : replyTo ? t('composer.replying') : t('composer.posting')) : note}
        </span>
        <button type="submit" class="primary" disabled={busy || over > 0 || empty} aria-busy={busy}>
          {busy ? (replyTo ? t('composer.replying') : t('composer.posting')) : replyTo ? t('composer.reply') : t('composer.post')}
        </button>
      </div>
    </form>
  );
}
