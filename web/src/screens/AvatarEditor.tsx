// The profile photo in Settings › Profile: choose an image, place a square
// over it (drag and wheel, the zoom slider, or the arrow keys and + / −
// on the picture), and save. The square is cut out here on
// a <canvas> and uploaded as its own image; the server then scales it and
// strips anything but the pixels. Removing the photo asks first.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, Me, Profile } from '../api';
import { Avatar } from '../avatar';
import { ConfirmDialog } from '../confirm';
import { uploadMedia } from '../media';
import { ErrorBox } from '../ui';
import { t } from '../i18n';

/** VIEW is the editor's side in CSS pixels; FRAME the square's side inside it. */
const VIEW = 280;
const FRAME = 220;
const OUT = 512;
const MAX_ZOOM = 4;

interface Place {
  /** zoom is 1 when the image's short side just fills the square. */
  zoom: number;
  /** cx, cy: the square's centre, in the image's pixels. */
  cx: number;
  cy: number;
}

/** clampPlace keeps the square inside the image. */
export function clampPlace(p: Place, w: number, h: number): Place {
  const zoom = Math.min(MAX_ZOOM, Math.max(1, p.zoom));
  const half = Math.min(w, h) / zoom / 2;
  return { zoom, cx: Math.min(w - half, Math.max(half, p.cx)), cy: Math.min(h - half, Math.max(half, p.cy)) };
}

/** cropSquare returns the square, in the image's pixels, that the frame covers. */
export function cropSquare(p: Place, w: number, h: number): { x: number; y: number; side: number } {
  const side = Math.min(w, h) / p.zoom;
  return { x: p.cx - side / 2, y: p.cy - side / 2, side };
}

export function AvatarEditor({ me, setMe }: { me: Me; setMe: (m: Me) => void }) {
  const [img, setImg] = useState<HTMLImageElement | null>(null);
  const [type, setType] = useState('image/jpeg');
  const [place, setPlace] = useState<Place>({ zoom: 1, cx: 0, cy: 0 });
  const [error, setError] = useState<unknown>(null);
  const [fileError, setFileError] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [status, setStatus] = useState('');
  const [asking, setAsking] = useState(false);
  const [removing, setRemoving] = useState(false);
  const canvas = useRef<HTMLCanvasElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const drag = useRef<{ x: number; y: number } | null>(null);

  const choose = (e: Event) => {
    const f = (e.currentTarget as HTMLInputElement).files?.[0];
    setError(null);
    setFileError('');
    setStatus('');
    if (!f) return;
    if (!f.type.startsWith('image/')) return setFileError(t('people.avatar.notImage'));
    const url = URL.createObjectURL(f);
    const im = new Image();
    im.onload = () => {
      setImg(im);
      // PNG, GIF and WebP may be transparent: keep that; photos go as JPEG.
      setType(/png|gif|webp/.test(f.type) ? 'image/png' : 'image/jpeg');
      setPlace({ zoom: 1, cx: im.naturalWidth / 2, cy: im.naturalHeight / 2 });
      requestAnimationFrame(() => canvas.current?.focus());
    };
    im.onerror = () => {
      URL.revokeObjectURL(url);
      setFileError(t('people.avatar.cannotRead'));
    };
    im.src = url;
  };

  // Draw the image under the square, darkened outside it.
  useEffect(() => {
    const c = canvas.current;
    if (!c || !img) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = VIEW * dpr;
    c.height = VIEW * dpr;
    const g = c.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const w = img.naturalWidth;
    const h = img.naturalHeight;
    const s = (FRAME / Math.min(w, h)) * place.zoom;
    g.fillStyle = '#000';
    g.fillRect(0, 0, VIEW, VIEW);
    g.drawImage(img, VIEW / 2 - place.cx * s, VIEW / 2 - place.cy * s, w * s, h * s);
    const o = (VIEW - FRAME) / 2;
    g.fillStyle = 'rgba(0, 0, 0, 0.55)';
    g.fillRect(0, 0, VIEW, o);
    g.fillRect(0, o + FRAME, VIEW, o);
    g.fillRect(0, o, o, FRAME);
    g.fillRect(o + FRAME, o, o, FRAME);
    g.strokeStyle = '#fff';
    g.lineWidth = 2;
    g.strokeRect(o, o, FRAME, FRAME);
  }, [img, place]);

  const move = (dx: number, dy: number, zoom = place.zoom) => {
    if (!img) return;
    // dx, dy are in editor pixels: the image moves with the pointer, so the square moves the other way.
    const s = (FRAME / Math.min(img.naturalWidth, img.naturalHeight)) * zoom;
    setPlace((p) => clampPlace({ zoom, cx: p.cx - dx / s, cy: p.cy - dy / s }, img.naturalWidth, img.naturalHeight));
  };
  const zoomTo = (z: number) => img && setPlace((p) => clampPlace({ ...p, zoom: z }, img.naturalWidth, img.naturalHeight));

  const scale = () => {
    const r = canvas.current?.getBoundingClientRect();
    return r && r.width ? VIEW / r.width : 1;
  };
  const onPointerDown = (e: PointerEvent) => {
    canvas.current?.setPointerCapture(e.pointerId);
    drag.current = { x: e.clientX, y: e.clientY };
  };
  const onPointerMove = (e: PointerEvent) => {
    if (!drag.current) return;
    const k = scale();
    move((e.clientX - drag.current.x) * k, (e.clientY - drag.current.y) * k);
    drag.current = { x: e.clientX, y: e.clientY };
  };
  const onPointerUp = () => {
    drag.current = null;
  };
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    zoomTo(place.zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
  };
  const onKey = (e: KeyboardEvent) => {
    const step = e.shiftKey ? 40 : 10;
    const keys: Record<string, () => void> = {
      ArrowLeft: () => move(step, 0),
      ArrowRight: () => move(-step, 0),
      ArrowUp: () => move(0, step),
      ArrowDown: () => move(0, -step),
      '+': () => zoomTo(place.zoom + 0.1),
      '=': () => zoomTo(place.zoom + 0.1),
      '-': () => zoomTo(place.zoom - 0.1),
    };
    const f = keys[e.key];
    if (!f) return;
    e.preventDefault();
    f();
  };

  const cancel = () => {
    if (img) URL.revokeObjectURL(img.src);
    setImg(null);
    if (fileInput.current) fileInput.current.value = '';
  };

  const save = async () => {
    if (!img) return;
    setError(null);
    setStatus('');
    const sq = cropSquare(place, img.naturalWidth, img.naturalHeight);
    const side = Math.min(OUT, Math.round(sq.side));
    const out = document.createElement('canvas');
    out.width = side;
    out.height = side;
    const g = out.getContext('2d');
    if (!g) return;
    if (type === 'image/jpeg') {
      g.fillStyle = '#fff';
      g.fillRect(0, 0, side, side);
    }
    g.imageSmoothingQuality = 'high';
    g.drawImage(img, sq.x, sq.y, sq.side, sq.side, 0, 0, side, side);
    const blob = await new Promise<Blob | null>((r) => out.toBlob(r, type, 0.9));
    if (!blob) return setError(new Error(t('people.avatar.cannotRead')));
    setProgress(0);
    try {
      const m = await uploadMedia(blob, type === 'image/png' ? 'avatar.png' : 'avatar.jpg', setProgress);
      const p = await api<Profile>('PUT', '/me/avatar', { media_id: m.id });
      setMe({ ...me, avatar_url: p.avatar_url ?? null });
      cancel();
      setStatus(t('people.avatar.saved'));
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  };

  const remove = async () => {
    setRemoving(true);
    setError(null);
    try {
      await api('DELETE', '/me/avatar');
      setMe({ ...me, avatar_url: null });
      setAsking(false);
      setStatus(t('people.avatar.removed'));
    } catch (e) {
      setError(e);
    } finally {
      setRemoving(false);
    }
  };

  const busy = progress !== null;
  return (
    <section aria-labelledby="avatar-h" class="avatar-editor">
      <h3 id="avatar-h" ref={heading} tabIndex={-1}>
        {t('people.avatar.title')}
      </h3>
      <div class="row">
        <Avatar name={me.display_name} url={me.avatar_url} size="big" />
        <div class="actions">
          <button type="button" onClick={() => fileInput.current?.click()} aria-describedby={fileError ? 'avatar-file-error' : undefined}>
            {me.avatar_url ? t('people.avatar.change') : t('people.avatar.choose')}
          </button>
          <input id="avatar-file" ref={fileInput} class="visually-hidden" type="file" accept="image/*" tabIndex={-1} aria-hidden="true" onChange={choose} />
          {me.avatar_url && !img && (
            <button type="button" onClick={() => setAsking(true)}>
              {t('people.avatar.remove')}
            </button>
          )}
        </div>
      </div>
      {fileError && (
        <p class="field-error" id="avatar-file-error">
          {fileError}
        </p>
      )}
      {img && (
        <div class="crop">
          <p id="crop-help" class="muted">
            {t('people.avatar.help')}
          </p>
          <canvas
            ref={canvas}
            class="crop-canvas"
            tabIndex={0}
            role="img"
            aria-label={t('people.avatar.cropLabel')}
            aria-describedby="crop-help"
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
            onPointerCancel={onPointerUp}
            onWheel={onWheel}
            onKeyDown={onKey}
          />
          <label for="crop-zoom">{t('people.avatar.zoom')}</label>
          <input
            id="crop-zoom"
            type="range"
            min={1}
            max={MAX_ZOOM}
            step={0.05}
            value={place.zoom}
            aria-valuetext={`${Math.round(place.zoom * 100)}%`}
            onInput={(e) => zoomTo(Number(e.currentTarget.value))}
          />
          <div class="row">
            <button type="button" class="primary" onClick={save} disabled={busy} aria-busy={busy}>
              {busy ? t('people.avatar.saving', { percent: Math.round((progress ?? 0) * 100) }) : t('people.avatar.save')}
            </button>
            <button type="button" onClick={cancel} disabled={busy}>
              {t('people.avatar.cancel')}
            </button>
          </div>
        </div>
      )}
      <ErrorBox error={error} />
      <p role="status">{status}</p>
      {asking && (
        <ConfirmDialog
          id="avatar-remove"
          title={t('people.avatar.removeTitle')}
          confirmLabel={t('people.avatar.remove')}
          busyLabel={t('people.avatar.removing')}
          busy={removing}
          error={error}
          onConfirm={remove}
          onCancel={() => setAsking(false)}
          focusAfter={heading}
        >
          <p>{t('people.avatar.removeBody')}</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
