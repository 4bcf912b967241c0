// The microblog's side of the API: post and profile shapes, the composer's
// limits (counted in code points, as the server counts them), the parsing of
// hashtags, mentions and links in post text, and a per-page-load cache of
// posts for quoting reposts.
import { api, ApiError, Profile } from './api';
import type { Moderated } from './moderation';
import { words } from './words';

export type Visibility = 'public' | 'followers' | 'contacts';

/** Mention is one @handle the server resolved in a post's text. */
export interface Mention {
  account_id: string;
  handle: string;
}

/** MicroPost is a microblog post (not a public account's article, which is api.Post). */
export interface MicroPost extends Moderated {
  id: string;
  author_id: string;
  text: string;
  media_ids: string[] | null;
  visibility: Visibility;
  reply_to?: string | null;
  repost_of?: string | null;
  category: string;
  status: 'published' | 'pending_review' | 'rejected';
  hashtags: string[] | null;
  mentions: (Mention | string)[] | null;
  like_count: number;
  reply_count: number;
  repost_count: number;
  liked: boolean;
  created_at: string;
}

/** AccountProfile is the public profile with the microblog's counts. */
export interface AccountProfile extends Profile {
  follower_count?: number;
  following_count?: number;
  post_count?: number;
  following?: boolean;
  followed_by?: boolean;
}

/** Trend is one row of GET /trending. */
export interface Trend {
  tag: string;
  post_count: number;
  account_count: number;
}

/** TEXT_LIMIT is the longest post text, in Unicode code points. */
export const TEXT_LIMIT = 2000;
/** MAX_PHOTOS is how many photos one post may carry. */
export const MAX_PHOTOS = 9;

/** codePoints counts what the server counts: 😀 and 汉 are one each, a UTF-16 surrogate pair is not two. */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export const visibilityWords = words<Visibility>({
  public: 'microblog.visibilityWords.public',
  followers: 'microblog.visibilityWords.followers',
  contacts: 'microblog.visibilityWords.contacts',
});

export const visibilityHints = words<Visibility>({
  public: 'microblog.anyoneAlsoInSearch',
  followers: 'microblog.onlyPeopleWhoFollow',
  contacts: 'microblog.onlyYourContacts',
});

/** Segment is a run of post text: plain, or a link to a hashtag, an account or a web page. */
export type Segment =
  | { kind: 'text'; text: string }
  | { kind: 'tag'; text: string; tag: string }
  | { kind: 'mention'; text: string; handle: string; accountID?: string }
  | { kind: 'url'; text: string; href: string };

const tagChar = /[\p{L}\p{N}\p{M}_]/u;
const asciiWord = /[A-Za-z0-9_]/;
const handleRun = /^[A-Za-z0-9_]{3,30}(?![A-Za-z0-9_])/;
const urlRun = /^https?:\/\/[^\s<>"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+/;
const urlTrailing = /[.,!?;:)\]}'"]+$/;
// A Weibo-style topic (#话题#) is at most this many code points long.
const TOPIC_MAX = 64;

/** normTag folds a hashtag for comparison the way the server keys hashtag pages. */
export function normTag(tag: string): string {
  return tag.normalize('NFKC').toLowerCase();
}

/**
 * segments splits post text into plain runs and links. hashtags and
 * mentions are what the server parsed and stored; when given, only those
 * become links, so the client never links what the server did not index.
 */
export function segments(text: string, hashtags?: string[] | null, mentions?: (Mention | string)[] | null): Segment[] {
  const tags = hashtags ? new Set(hashtags.map(normTag)) : null;
  const handles = new Map<string, string | undefined>();
  for (const m of mentions ?? []) {
    if (typeof m === 'string') handles.set(m.replace(/^@/, '').toLowerCase(), undefined);
    else handles.set(m.handle.toLowerCase(), m.account_id);
  }
  const known = (tag: string) => tag !== '' && (!tags || tags.has(normTag(tag)));
  const out: Segment[] = [];
  let plain = '';
  const flush = () => {
    if (plain) out.push({ kind: 'text', text: plain });
    plain = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const prev = i > 0 ? text[i - 1] : '';
    if (c === '#' && !asciiWord.test(prev) && prev !== '&') {
      // #话题#: up to the next # on the same line, no space at either end.
      const close = text.indexOf('#', i + 1);
      const topic = close > i + 1 ? text.slice(i + 1, close) : '';
      if (topic && !topic.includes('\n') && topic.trim() === topic && codePoints(topic) <= TOPIC_MAX && known(topic)) {
        flush();
        out.push({ kind: 'tag', text: text.slice(i, close + 1), tag: topic });
        i = close + 1;
        continue;
      }
      // #word: letters, digits, marks and _ (CJK included).
      let j = i + 1;
      while (j < text.length) {
        const cp = text.codePointAt(j)!;
        const ch = String.fromCodePoint(cp);
        if (!tagChar.test(ch)) break;
        j += ch.length;
      }
      const word = text.slice(i + 1, j);
      if (word && known(word)) {
        flush();
        out.push({ kind: 'tag', text: text.slice(i, j), tag: word });
        i = j;
        continue;
      }
    } else if (c === '@' && !asciiWord.test(prev) && prev !== '.') {
      const m = text.slice(i + 1).match(handleRun);
      const handle = m?.[0].toLowerCase();
      if (handle && (!mentions || handles.has(handle))) {
        flush();
        out.push({ kind: 'mention', text: text.slice(i, i + 1 + m![0].length), handle, accountID: handles.get(handle) });
        i += 1 + m![0].length;
        continue;
      }
    } else if (c === 'h' && !/[\p{L}\p{N}]/u.test(prev)) {
      const m = text.slice(i).match(urlRun);
      if (m) {
        const url = m[0].replace(urlTrailing, '');
        if (url.length > 'https://'.length) {
          flush();
          out.push({ kind: 'url', text: url, href: url });
          i += url.length;
          continue;
        }
      }
    }
    plain += c;
    i++;
  }
  flush();
  return out;
}

/** textLang guesses a BCP 47 language for CJK text, so the browser picks the right glyphs (Han unification). */
export function textLang(s: string): string | undefined {
  if (/[\u3040-\u30ff]/.test(s)) return 'ja';
  if (/[\u1100-\u11ff\uac00-\ud7af]/.test(s)) return 'ko';
  if (/\p{Script=Han}/u.test(s)) return 'zh';
  return undefined;
}

/** hashtagPath is the client's address of a hashtag's page. */
export function hashtagPath(tag: string): string {
  return `/hashtags/${encodeURIComponent(tag)}`;
}

const posts = new Map<string, Promise<MicroPost>>();

/** postInfo fetches a post once per page load (for the originals that reposts quote). */
export function postInfo(id: string): Promise<MicroPost> {
  let p = posts.get(id);
  if (!p) {
    p = api<MicroPost>('GET', `/posts/${encodeURIComponent(id)}`);
    p.catch(() => posts.delete(id));
    posts.set(id, p);
  }
  return p;
}

/** rememberPost primes postInfo's cache with a post the client already holds. */
export function rememberPost(p: MicroPost): void {
  posts.set(p.id, Promise.resolve(p));
}

/** forgetPost drops a deleted post from postInfo's cache. */
export function forgetPost(id: string): void {
  posts.set(id, Promise.reject(new ApiError(404, 'not_found', 'deleted')));
  posts.get(id)!.catch(() => {});
}

/** byNewest orders decimal-string IDs (time-sortable) newest first. */
export function byNewest(a: { id: string }, b: { id: string }): number {
  if (a.id.length !== b.id.length) return b.id.length - a.id.length;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** fieldOf maps a server field path (media_ids[2], data.text) to the form control it belongs to. */
export function fieldOf(path: string): string {
  return path.replace(/^data\./, '').split(/[.[]/)[0];
}
