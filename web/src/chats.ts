// The signed-in person's conversations, shared by the chat list and the
// unread badge in the navigation: read once, and read again (one reload
// for a burst of events) when the stream reports a change.
import { api, Conversation, List } from './api';
import { Stream } from './stream';

const refreshOn = new Set(['message.created', 'message.recalled', 'message.moderated', 'conversation.read', 'conversation.updated']);

export class Chats {
  items: Conversation[] | null = null;
  error: unknown = null;
  private listeners = new Set<() => void>();
  private offs: (() => void)[] = [];
  private timer: number | undefined;
  private closed = false;

  constructor(stream: Stream) {
    this.offs.push(
      stream.onFrame((f) => refreshOn.has(f.type) && this.soon()),
      stream.onResync(() => this.soon()),
      stream.onState((s) => s === 'online' && this.soon()),
    );
    this.load();
  }

  /** unread is the number of unread messages over all conversations. */
  get unread(): number {
    return (this.items ?? []).reduce((n, c) => n + (c.unread_count ?? 0), 0);
  }

  /** load reads the list now; soon coalesces a burst of events into one load. */
  async load(): Promise<void> {
    try {
      const l = await api<List<Conversation>>('GET', '/conversations');
      if (this.closed) return;
      this.items = l.items;
      this.error = null;
    } catch (e) {
      if (this.closed) return;
      this.error = e;
    }
    this.listeners.forEach((fn) => fn());
  }

  soon(): void {
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.load(), 150);
  }

  /** onChange calls fn after every load; it returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.offs.forEach((off) => off());
    this.listeners.clear();
  }
}
