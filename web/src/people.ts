// Finding people, invite links, privacy and profile photos: the shapes and
// calls of docs/api.md "Finding people, invites and profile photos".
import { api, List, Profile } from './api';

/** Invite is one of my invite links as listed: the token itself is shown only once, when made. */
export interface Invite {
  id: string;
  account_id: string;
  prefix: string;
  created_at: string;
  expires_at: string;
}

/** NewInvite is the answer of POST /me/invites, the only one that carries the token. */
export interface NewInvite extends Invite {
  token: string;
  /** url is the web client's path, /add/TOKEN. */
  url: string;
}

/** InviteInfo is whose invite link a token is. */
export interface InviteInfo {
  account: Profile;
  expires_at: string;
}

/** Privacy says how others may find the account. */
export interface Privacy {
  find_by_handle: boolean;
  find_by_phone: boolean;
}

/** lookup finds one account by exact handle or by a verified phone number. */
export function lookup(by: 'handle' | 'phone', value: string): Promise<Profile> {
  return api<Profile>('GET', `/accounts/lookup?${by}=${encodeURIComponent(value)}`);
}

export const createInvite = () => api<NewInvite>('POST', '/me/invites');
export const listInvites = () => api<List<Invite>>('GET', '/me/invites');
export const revokeInvite = (id: string) => api<void>('DELETE', `/me/invites/${encodeURIComponent(id)}`);
export const inviteInfo = (token: string) => api<InviteInfo>('GET', `/invites/${encodeURIComponent(token)}`);

export const getPrivacy = () => api<Privacy>('GET', '/me/privacy');
export const setPrivacy = (p: Partial<Privacy>) => api<Privacy>('PATCH', '/me/privacy', p);

/** inviteLink turns the server's path into a link that works when shared. */
export function inviteLink(path: string): string {
  return new URL(path, location.origin).href;
}
