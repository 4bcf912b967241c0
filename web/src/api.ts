// The HTTP side of Plaza's API: a fetch wrapper that sends the session
// token and turns error bodies into ApiError, plus the shapes the app uses.
import type { Moderated } from './moderation';
import * as offline from './offline';
import { t } from './i18n';

const TOKEN_KEY = 'plaza.token';

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  // What was kept for offline reading belongs to the session that read it.
  if (token !== getToken()) offline.forget();
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** FieldProblem is one entry of an invalid_request's details.fields. */
export interface FieldProblem {
  field: string;
  rule: string;
}

/** ApiError is an error answer from the server (or a network failure, code "network"). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** fields returns the per-field problems of an invalid_request, keyed by field. */
  fields(): Record<string, string> {
    const out: Record<string, string> = {};
    const list = this.details.fields;
    if (Array.isArray(list)) {
      for (const f of list as FieldProblem[]) {
        out[f.field] = out[f.field] ? `${out[f.field]}; ${f.rule}` : f.rule;
      }
    }
    // A refusal about one field may name it alone, in details.field.
    const one = this.details.field;
    if (typeof one === 'string' && one && !out[one]) out[one] = String(this.details.rule ?? this.message);
    return out;
  }
}

type Listener = (err: ApiError) => void;
const authCodes = ['unauthenticated', 'terms_acceptance_required', 'account_suspended', 'account_closed'];
const authListeners = new Set<Listener>();

/**
 * onAuthProblem registers a callback for 401s, terms_acceptance_required,
 * account_suspended and account_closed on signed-in calls.
 */
export function onAuthProblem(fn: Listener): () => void {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    // Offline: a kept copy of a GET answer keeps the app readable.
    const kept = method === 'GET' && token ? offline.saved(path) : undefined;
    if (kept) {
      offline.servedOffline(kept.at);
      return kept.data as T;
    }
    throw new ApiError(0, 'network', t('api.theServerCouldNot'));
  }
  offline.servedOffline(null);
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = data?.error ?? {};
    const err = new ApiError(res.status, e.code ?? 'internal', e.message ?? res.statusText, e.details ?? {});
    if (token && authCodes.includes(err.code)) {
      authListeners.forEach((fn) => fn(err));
    }
    throw err;
  }
  // Kept only while the session that asked is still the one signed in:
  // an answer that lands after signing out (or in as someone else) must
  // not bring back the copy that was just wiped.
  if (method === 'GET' && token && getToken() === token) offline.save(path, data);
  return data as T;
}

export interface Terms {
  version: number;
  title: string;
  body: string;
  published_at: string;
}

export interface Me {
  id: string;
  handle: string;
  display_name: string;
  roles: string[];
  verification: { phone: boolean; identity: string; identity_reason?: string };
  status: string;
  status_reason?: string;
  status_until?: string;
  terms: { accepted_version: number; current_version: number; reconsent_required: boolean };
  /** When the account is to be deleted, or null: it was asked for and the grace period runs. */
  deletion_scheduled_at?: string | null;
  /** The language of the text messages Plaza sends (SMS codes). */
  language?: string;
  /** The profile photo's versioned URL, or null. */
  avatar_url?: string | null;
}

export interface SignedIn {
  account: Me;
  token: string;
}

export interface Profile {
  id: string;
  handle: string;
  display_name: string;
  verified: boolean;
  /** The account is memorialised: kept, read-only, in memory of its owner. */
  memorialised?: boolean;
  /** The profile photo's versioned URL, or null. */
  avatar_url?: string | null;
}

/** goneAccount reports whether a profile lookup failed because the account was deleted (410; 404 before). */
export function goneAccount(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 410 || err.status === 404);
}

export interface Session {
  id: string;
  user_agent: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  current: boolean;
}

export interface Message extends Moderated {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  client_id?: string;
  kind: string;
  text?: string;
  media_id?: string;
  reply_to?: string;
  recalled?: boolean;
  created_at: string;
}

export interface Conversation {
  id: string;
  kind: 'direct' | 'group';
  title?: string;
  member_ids: string[];
  last_seq: number;
  unread_count?: number;
  read_seq?: number;
  last_message?: Message | null;
}

export interface List<T> {
  items: T[];
  next_cursor?: string;
}

const profiles = new Map<string, Promise<Profile>>();

/** profile fetches another account's public profile once per page load. */
export function profile(id: string): Promise<Profile> {
  let p = profiles.get(id);
  if (!p) {
    p = api<Profile>('GET', `/accounts/${encodeURIComponent(id)}`);
    p.catch(() => profiles.delete(id));
    profiles.set(id, p);
  }
  return p;
}

/** newClientID returns a random UUID; it works outside secure contexts too. */
export function newClientID(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface ContactRequest {
  id: string;
  from_id: string;
  to_id: string;
  note: string;
  status: 'pending' | 'accepted' | 'declined';
  created_at: string;
}

export interface Contact {
  id: string;
  handle: string;
  display_name: string;
  since: string;
  avatar_url?: string | null;
}

/** startDirect opens (or creates) the direct chat with someone and returns it. */
export function startDirect(id: string): Promise<Conversation> {
  return api<Conversation>('POST', '/conversations', { kind: 'direct', member_ids: [id] });
}

export interface Channel extends Moderated {
  id: string;
  handle: string;
  name: string;
  description: string;
  kind: 'subscription' | 'service';
  owner_id: string;
  editor_ids: string[];
  verified: boolean;
  approved_at: string;
  status: string;
  status_reason?: string;
  follower_count: number;
  following?: boolean;
}

export interface Post extends Moderated {
  id: string;
  channel_id: string;
  author_id: string;
  title: string;
  body: string;
  body_html: string;
  category: string;
  status: 'published' | 'pending_review' | 'rejected';
  reason?: string;
  created_at: string;
  published_at?: string;
}

export interface ChannelApplication {
  id: string;
  applicant_id: string;
  handle: string;
  name: string;
  description: string;
  kind: string;
  status: 'pending' | 'approved' | 'rejected';
  reason?: string;
  channel_id?: string;
  created_at: string;
}

export interface Category {
  name: string;
  policy: 'open' | 'review' | 'credential' | 'forbidden';
  description: string;
}

const channels = new Map<string, Promise<Channel>>();

/** channelInfo fetches a channel once per page load (for names in the feed). */
export function channelInfo(id: string): Promise<Channel> {
  let p = channels.get(id);
  if (!p) {
    p = api<Channel>('GET', `/channels/${encodeURIComponent(id)}`);
    p.catch(() => channels.delete(id));
    channels.set(id, p);
  }
  return p;
}

/** Export is one download of one's data being prepared, ready or expired. */
export interface Export {
  id: string;
  status: 'pending' | 'running' | 'ready' | 'failed' | 'expired';
  /** From 0 to 1. */
  progress: number;
  size: number;
  download_url?: string | null;
  expires_at?: string | null;
  created_at?: string;
}

/** MediaItem is one of one's own uploads as GET /me/media lists it. */
export interface MediaItem {
  id: string;
  kind: 'image' | 'video' | 'audio' | 'file';
  content_type: string;
  size: number;
  width: number;
  height: number;
  duration_ms: number;
  has_thumbnail?: boolean;
  created_at: string;
  /** A sent message carries it: deleting leaves it readable there until recalled. */
  in_messages?: boolean;
}

/** MediaUsage is GET /me/media-usage: what counts against the quota. */
export interface MediaUsage {
  used_bytes: number;
  reserved_bytes: number;
  unfinished_uploads: number;
  quota_bytes: number;
  max_unfinished_uploads: number;
}

/** LegacyContact is who may look after the account once it is memorialised. */
export interface LegacyContact {
  account_id: string;
  may_download: boolean;
}
