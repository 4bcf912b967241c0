// The count of unread notifications behind the badge in the navigation:
// read from the server when the stream comes online (and after a resync),
// raised by each new notification frame, and lowered when they are marked
// read.
import { api, List } from './api';
import { Stream } from './stream';

/** Notice is one notification: someone mentioned, replied, liked, reposted or followed. */
export interface Notice {
  id: string;
  kind: 'mention' | 'reply' | 'like' | 'repost' | 'follow' | string;
  actor_id: string;
  post_id?: string | null;
  created_at: string;
  read: boolean;
}

/** NoticeList is GET /notifications: a page and the unread count. */
export interface NoticeList extends List<Notice> {
  unread_count?: number;
}

export class Unread {
  count = 0;
  private seen = new Set<string>();
  private listeners = new Set<(n: number) => void>();
  private noticeListeners = new Set<(n: Notice) => void>();
  private offs: (() => void)[] = [];

  constructor(stream: Stream) {
    this.offs.push(
      stream.onFrame((f) => {
        if (f.type !== 'notification' || !f.data?.id) return;
        const n = f.data as Notice;
        if (this.seen.has(n.id)) return;
        this.seen.add(n.id);
        if (!n.read) this.set(this.count + 1);
        this.noticeListeners.forEach((fn) => fn(n));
      }),
      stream.onState((s) => s === 'online' && this.refresh()),
      stream.onResync(() => this.refresh()),
    );
    this.refresh();
  }

  /** refresh reads the unread count from the server. */
  async refresh(): Promise<void> {
    try {
      const l = await api<NoticeList>('GET', '/notifications?limit=1');
      if (typeof l.unread_count === 'number') this.set(l.unread_count);
    } catch {
      // The badge keeps its count; the next reconnect asks again.
    }
  }

  /** markRead marks everything up to a notification as read. */
  async markRead(upTo: string): Promise<void> {
    await api('POST', '/notifications/read', { up_to: upTo });
    this.set(0);
    await this.refresh();
  }

  onChange(fn: (n: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** onNotice hears each new notification once. */
  onNotice(fn: (n: Notice) => void): () => void {
    this.noticeListeners.add(fn);
    return () => this.noticeListeners.delete(fn);
  }

  close(): void {
    this.offs.forEach((off) => off());
  }

  private set(n: number) {
    if (n === this.count) return;
    this.count = Math.max(0, n);
    this.listeners.forEach((fn) => fn(this.count));
  }
}
