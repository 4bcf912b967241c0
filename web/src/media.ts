// Media for chats: uploads with progress (XMLHttpRequest, which reports
// upload progress where fetch does not), authorised downloads turned into
// blob: URLs (an <img> or <audio> cannot send the Authorization header),
// and voice recording with MediaRecorder.
import { ApiError, getToken } from './api';
import { t } from './i18n';

export interface Media {
  id: string;
  kind: 'image' | 'video' | 'audio' | 'file';
  content_type: string;
  size: number;
  width?: number;
  height?: number;
  duration_ms?: number;
  has_thumbnail: boolean;
  created_at: string;
}

/** uploadMedia sends a file to POST /api/v1/media, reporting progress from 0 to 1. */
export function uploadMedia(file: Blob, name: string, onProgress: (fraction: number) => void): Promise<Media> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/media');
    const token = getToken();
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', t('media.theServerCouldNot')));
    xhr.onload = () => {
      let data: any = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        // an empty or non-JSON body is handled below
      }
      if (xhr.status >= 200 && xhr.status < 300 && data) {
        onProgress(1);
        resolve(data as Media);
        return;
      }
      const e = data?.error ?? {};
      reject(new ApiError(xhr.status, e.code ?? 'internal', e.message ?? xhr.statusText, e.details ?? {}));
    };
    const form = new FormData();
    form.append('file', file, name);
    xhr.send(form);
  });
}

const urls = new Map<string, Promise<string>>();

/** mediaURL fetches an item (or its thumbnail) with the session token once per page load and returns a blob: URL. */
export function mediaURL(id: string, thumbnail = false): Promise<string> {
  const key = `${id}${thumbnail ? '/thumbnail' : ''}`;
  let p = urls.get(key);
  if (!p) {
    p = (async () => {
      const token = getToken();
      let res: Response;
      try {
        res = await fetch(`/api/v1/media/${key}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
      } catch {
        throw new ApiError(0, 'network', t('media.theServerCouldNot'));
      }
      if (!res.ok) throw new ApiError(res.status, res.status === 404 ? 'not_found' : 'internal', res.statusText);
      return URL.createObjectURL(await res.blob());
    })();
    p.catch(() => urls.delete(key));
    urls.set(key, p);
  }
  return p;
}

/** knownPosters holds whether videos this device uploaded have a poster thumbnail. */
export const knownPosters = new Map<string, boolean>();

/** saveMedia downloads an item with the session token and saves it under a name. */
export async function saveMedia(id: string, name: string): Promise<void> {
  const a = document.createElement('a');
  a.href = await mediaURL(id);
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** knownDurations holds the durations of voice messages this device uploaded (the server measured them). */
export const knownDurations = new Map<string, number>();

/** formatDuration writes milliseconds as m:ss. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export const VOICE_LIMIT_MS = 60000;

/** Recorder records one voice message from the microphone. */
export class Recorder {
  private rec: MediaRecorder | null = null;
  private chunks: Blob[] = [];
  private mic: MediaStream | null = null;
  startedAt = 0;

  async start(): Promise<void> {
    this.mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    const type = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'].find((t) => MediaRecorder.isTypeSupported(t));
    this.rec = new MediaRecorder(this.mic, type ? { mimeType: type } : undefined);
    this.chunks = [];
    this.rec.ondataavailable = (e) => {
      if (e.data.size > 0) this.chunks.push(e.data);
    };
    this.rec.start();
    this.startedAt = Date.now();
  }

  /** stop ends the recording and returns it (null when cancelled). */
  stop(keep = true): Promise<Blob | null> {
    const rec = this.rec;
    if (!rec) return Promise.resolve(null);
    return new Promise((resolve) => {
      rec.onstop = () => {
        this.mic?.getTracks().forEach((t) => t.stop());
        this.rec = null;
        resolve(keep ? new Blob(this.chunks, { type: rec.mimeType || 'audio/webm' }) : null);
      };
      rec.stop();
    });
  }
}

/** microphoneProblem explains why recording could not start. */
export function microphoneProblem(e: unknown): string {
  const name = (e as { name?: string })?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return t('media.plazaMayNotUse');
  }
  if (name === 'NotFoundError') return t('media.noMicrophoneWasFound');
  if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices) return t('media.thisBrowserCannotRecord');
  return t('media.recordingCouldNotStart');
}
