// The real-time stream: one WebSocket per signed-in tab. It reconnects by
// itself with backoff, resumes from the last cursor it saw, and resends
// unacknowledged messages (their client_id makes the resend idempotent).
import { api, ApiError, getToken, Message } from './api';
import { t } from './i18n';

export type StreamState = 'connecting' | 'online' | 'reconnecting' | 'closed';

export interface Frame {
  type: string;
  id?: string;
  cursor?: string;
  data?: any;
}

/** SendRequest is what a chat view wants sent. */
export interface SendRequest {
  conversation_id: string;
  client_id: string;
  kind: 'text' | 'image' | 'voice' | 'video' | 'file';
  text?: string;
  media_id?: string;
  reply_to?: string;
}

interface Pending {
  req: SendRequest;
  resolve: (m: Message) => void;
  reject: (e: ApiError) => void;
  frameID: string;
}

export class Stream {
  state: StreamState = 'connecting';
  private ws: WebSocket | null = null;
  // The cursor lives in memory only: after a reload the views fetch
  // history anyway, and it must never carry over to another account.
  private cursor: string | null = null;
  private attempt = 0;
  private timer: number | undefined;
  private frameSeq = 0;
  private pending = new Map<string, Pending>();
  private frameListeners = new Set<(f: Frame) => void>();
  private stateListeners = new Set<(s: StreamState) => void>();
  private resyncListeners = new Set<() => void>();
  private stopped = false;

  constructor() {
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  onFrame(fn: (f: Frame) => void): () => void {
    this.frameListeners.add(fn);
    return () => this.frameListeners.delete(fn);
  }

  onState(fn: (s: StreamState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** onResync is called when the cursor was too old: views must reload. */
  onResync(fn: () => void): () => void {
    this.resyncListeners.add(fn);
    return () => this.resyncListeners.delete(fn);
  }

  /** send queues a message; it resolves with the stored message on ack. */
  send(req: SendRequest): Promise<Message> {
    return new Promise((resolve, reject) => {
      const p: Pending = { req, resolve, reject, frameID: '' };
      this.pending.set(req.client_id, p);
      this.transmit(p);
    });
  }

  /** typing tells the other members that this person is typing (dropped when offline). */
  typing(conversationID: string): void {
    if (this.ws?.readyState !== WebSocket.OPEN || this.state !== 'online') return;
    this.ws.send(JSON.stringify({ type: 'typing', data: { conversation_id: conversationID } }));
  }

  close(): void {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.timer);
    this.ws?.close(1000);
    this.setState('closed');
    for (const p of this.pending.values()) p.reject(new ApiError(0, 'network', t('stream.signedOutBeforeThe')));
    this.pending.clear();
  }

  private onOnline = () => {
    if (this.state === 'reconnecting') {
      clearTimeout(this.timer);
      this.connect();
    }
  };

  private setState(s: StreamState) {
    if (this.state === s) return;
    this.state = s;
    this.stateListeners.forEach((fn) => fn(s));
  }

  private transmit(p: Pending) {
    if (this.ws?.readyState !== WebSocket.OPEN || this.state !== 'online') return; // sent on reconnect
    p.frameID = `F${++this.frameSeq}`;
    this.ws.send(JSON.stringify({ type: 'message.send', id: p.frameID, data: p.req }));
  }

  private connect() {
    const token = getToken();
    if (!token || this.stopped) return;
    const url = new URL('/api/v1/stream', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('access_token', token);
    if (this.cursor) url.searchParams.set('since', this.cursor);
    const ws = new WebSocket(url);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (ev) => {
      let f: Frame;
      try {
        f = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      this.handle(f);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      if (ev.code === 4001 || ev.code === 4003 || ev.code === 4005 || ev.code === 4009) {
        // The session ended, the account's standing or the terms changed,
        // or another stream took this one's place: reconnecting would be
        // refused or would push that stream out. Asking for the account
        // lets the app act on why (sign in, the decision, the terms).
        this.setState('closed');
        api('GET', '/me').catch(() => {});
        return;
      }
      this.setState('reconnecting');
      if (ev.code === 1012 || ev.code === 1001) {
        // The node is draining: another one takes over at once, so come
        // back soon, at a random moment, rather than all together.
        this.timer = window.setTimeout(() => this.connect(), Math.random() * 1000);
        return;
      }
      this.scheduleReconnect(!opened);
    };
  }

  private handle(f: Frame) {
    if (f.cursor) this.cursor = f.cursor;
    if (f.type === 'ready') {
      this.attempt = 0;
      this.setState('online');
      for (const p of this.pending.values()) this.transmit(p);
    } else if (f.type === 'message.ack' || (f.type === 'error' && f.id)) {
      for (const [key, p] of this.pending) {
        if (p.frameID !== f.id) continue;
        this.pending.delete(key);
        if (f.type === 'message.ack') p.resolve(f.data as Message);
        else p.reject(new ApiError(0, f.data?.code ?? 'internal', f.data?.message ?? 'refused', f.data?.details ?? {}));
        break;
      }
    }
    this.frameListeners.forEach((fn) => fn(f));
  }

  // scheduleReconnect waits with exponential backoff and full jitter. A
  // handshake that failed may mean an expired cursor or session, which a
  // WebSocket cannot tell us: ask the sync endpoint.
  private scheduleReconnect(handshakeFailed: boolean) {
    // Full jitter: after a node's loss its clients spread out over the
    // whole interval instead of returning in waves.
    const delay = Math.random() * Math.min(15000, 500 * 2 ** this.attempt);
    this.attempt++;
    this.timer = window.setTimeout(async () => {
      if (handshakeFailed && this.cursor) {
        try {
          await api('GET', `/sync?since=${encodeURIComponent(this.cursor)}&limit=1`);
        } catch (e) {
          if (e instanceof ApiError && e.code === 'cursor_expired') {
            this.cursor = String(e.details.cursor ?? '') || null;
            this.resyncListeners.forEach((fn) => fn());
          } else if (e instanceof ApiError && e.status === 401) {
            return; // the app signs out
          }
        }
      }
      this.connect();
    }, delay);
  }
}
