// Moderation's side of the API: the operator's rules, reports, statements
// of reasons with their appeals, the moderators' queues, authority orders
// and the transparency report; and the plain words the screens use for
// actions, sources and targets.
import { api } from './api';
import { formatDateTime, t } from './i18n';
import { words } from './words';

/** Rule is one of the operator's published, numbered rules. */
export interface Rule {
  id: number;
  title: string;
  description: string;
}

/** TargetType is what can be reported or decided on. */
export type TargetType = 'post' | 'message' | 'account' | 'channel' | 'channel_post';

/** Action is what a decision does. */
export type Action = 'dismiss' | 'label' | 'limit' | 'remove' | 'suspend' | 'close';

/** Moderated is what the server adds to content a decision applies to, per viewer. */
export interface Moderated {
  /** label is the moderators' note, shown to everyone. */
  label?: string;
  /** removed and limited are shown to the author only. */
  removed?: boolean;
  limited?: boolean;
  decision_id?: string;
}

/** Snapshot is the content concerned as it was when reported or decided. */
export interface Snapshot {
  type?: string;
  id?: string;
  owner_id?: string;
  text?: string;
  title?: string;
  body?: string;
  media_ids?: string[] | null;
  created_at?: string;
  handle?: string;
  display_name?: string;
  name?: string;
  description?: string;
  [key: string]: unknown;
}

/** Outcome is what became of a report, as its reporter sees it. */
export interface Outcome {
  action: Action;
  decided_at: string;
  reversed: boolean;
}

/** MyReport is one of the caller's own reports. */
export interface MyReport {
  id: string;
  target_type: TargetType;
  target_id: string;
  rule_id: number;
  comment: string;
  created_at: string;
  status: 'open' | 'decided';
  outcome: Outcome | null;
}

/** AppealState is an appeal as its statement of reasons shows it. */
export interface AppealState {
  id?: string;
  status: 'open' | 'decided';
  outcome: 'upheld' | 'reversed' | '';
  reason: string;
}

/** Statement is a decision's statement of reasons (DSA Art. 17). */
export interface Statement {
  id: string;
  target_type: TargetType;
  target_id: string;
  action: Action;
  rule: { id: number; title: string };
  ground: 'terms' | 'law';
  legal_basis: string;
  reason: string;
  label: string;
  content: Snapshot | null;
  source: 'report' | 'own_initiative' | 'authority_order';
  automated: boolean;
  created_at: string;
  ends_at: string | null;
  appeal_deadline: string;
  status: 'in_force' | 'reversed';
  appeal: AppealState | null;
  duration_days?: number | null;
  authority_order_id?: string;
  /** how_to_appeal is the server's own wording of the redress. */
  how_to_appeal?: string;
  /** moderator_id and account_id are shown to moderators only. */
  moderator_id?: string;
  account_id?: string;
}

/** Evidence is a message a reporter attached to a report, as a snapshot: owner_id is its sender. */
export interface Evidence {
  id: string;
  type?: string;
  conversation_id?: string;
  seq?: number;
  owner_id?: string;
  sender_id?: string;
  kind?: string;
  text?: string;
  media_ids?: string[] | null;
  created_at?: string;
}

/** QueueReport is one report in a queue item. */
export interface QueueReport {
  id: string;
  reporter_id: string;
  rule_id: number;
  rule_title?: string;
  comment: string;
  evidence: Evidence[] | null;
  created_at: string;
}

/** HistoryEntry is an earlier decision about the same account. */
export interface HistoryEntry {
  id: string;
  action: Action;
  rule_id: number;
  rule_title?: string;
  created_at: string;
  status: string;
}

/** QueueItem is one target under review, with every report of it. */
export interface QueueItem {
  id: string;
  target_type: TargetType;
  target_id: string;
  owner_id: string | null;
  snapshot: Snapshot | null;
  status: 'open' | 'decided';
  report_count: number;
  created_at: string;
  reports: QueueReport[] | null;
  history: HistoryEntry[] | null;
}

/** AppealItem is an appeal in the moderators' queue. */
export interface AppealItem {
  id: string;
  decision: Statement;
  account_id: string;
  text: string;
  status: 'open' | 'decided';
  outcome?: string;
  reason?: string;
  created_at: string;
}

/** AuthorityOrder is a recorded request from an authority. */
export interface AuthorityOrder {
  id: string;
  authority: string;
  legal_basis: string;
  received_at: string;
  scope: string;
  target_type: string;
  target_id: string | null;
  outcome: 'complied' | 'partially_complied' | 'rejected';
  note: string;
  created_at?: string;
  recorded_by?: string;
}

export type Counts = Record<string, number>;

/** Transparency is the public report for a period. */
export interface Transparency {
  from: string;
  to: string;
  reports: { total: number; by_rule: Counts; by_target_type: Counts };
  decisions: { total: number; by_action: Counts; by_rule: Counts; by_source?: Counts; median_hours_to_decision: number | null; automated?: number };
  appeals: { total: number; upheld?: number; reversed: number };
  authority_orders: { total: number; by_authority: Counts; by_outcome: Counts };
  identity_reviews: { approved: number; rejected: number };
  channel_applications: { approved: number; rejected: number };
  /** rules names the rules the counts cite, by number, as they were titled. */
  rules?: Record<string, string>;
}

let rulesCache: Promise<Rule[]> | null = null;

/** rules fetches the published rules once per page load. */
export function rules(): Promise<Rule[]> {
  if (!rulesCache) {
    rulesCache = api<{ items: Rule[] }>('GET', '/rules').then((l) => l.items ?? []);
    rulesCache.catch(() => {
      rulesCache = null;
    });
  }
  return rulesCache;
}

/** forgetRules drops the cached rules after an admin changed one. */
export function forgetRules(): void {
  rulesCache = null;
}

/** ruleTitle names a rule by number, "Rule 3: Spam". */
export function ruleTitle(list: Rule[] | null, id: number): string {
  const r = list?.find((x) => x.id === id);
  return r ? t('moderation.ruleTitle', { id, title: r.title }) : t('moderation.rule', { id });
}

export const targetWords = words<TargetType>({
  post: 'moderation.targetWords.post',
  message: 'moderation.targetWords.message',
  account: 'moderation.targetWords.account',
  channel: 'moderation.targetWords.channel',
  channel_post: 'moderation.targetWords.channel_post',
});

/** actionWords says what an action does, for moderators and reporters. */
export const actionWords = words<Action>({
  dismiss: 'moderation.actionWords.dismiss',
  label: 'moderation.actionWords.label',
  limit: 'moderation.actionWords.limit',
  remove: 'moderation.actionWords.remove',
  suspend: 'moderation.actionWords.suspend',
  close: 'moderation.actionWords.close',
});

/** actionHelp explains each action in the decision form. */
export const actionHelp = words<Action>({
  dismiss: 'moderation.actionHelp.dismiss',
  label: 'moderation.actionHelp.label',
  limit: 'moderation.actionHelp.limit',
  remove: 'moderation.actionHelp.remove',
  suspend: 'moderation.actionHelp.suspend',
  close: 'moderation.actionHelp.close',
});

export const sourceWords = words<Statement['source']>({
  report: 'moderation.sourceWords.report',
  own_initiative: 'moderation.sourceWords.own_initiative',
  authority_order: 'moderation.sourceWords.authority_order',
});

/** sourceShort names a decision's source in a chart. */
export const sourceShort = words<string>({
  report: 'moderation.sourceShort.report',
  own_initiative: 'moderation.sourceShort.own_initiative',
  authority_order: 'moderation.sourceShort.authority_order',
});

export const outcomeWords = words<AuthorityOrder['outcome']>({
  complied: 'moderation.outcomeWords.complied',
  partially_complied: 'moderation.outcomeWords.partially_complied',
  rejected: 'moderation.outcomeWords.rejected',
});

/**
 * actionsFor lists the actions the server allows on a target: an account
 * has no content to label, limit or remove, and a message in a private
 * conversation has no wider audience to limit it from.
 */
export function actionsFor(tt: TargetType, opts: { report?: boolean; admin?: boolean } = {}): Action[] {
  let out: Action[] = ['dismiss', 'label', 'limit', 'remove', 'suspend', 'close'];
  if (tt === 'account') out = ['dismiss', 'suspend', 'close'];
  if (tt === 'message') out = ['dismiss', 'label', 'remove', 'suspend', 'close'];
  // Dismissing needs a report to dismiss; closing an account is for admins.
  if (opts.report === false) out = out.filter((a) => a !== 'dismiss');
  if (!opts.admin) out = out.filter((a) => a !== 'close');
  return out;
}

/** targetPath is where the client shows a target, when it has a page for it. */
export function targetPath(tt: TargetType, id: string, snapshot?: Snapshot | null): string | null {
  switch (tt) {
    case 'post':
      return `/posts/${id}`;
    case 'account':
      return `/accounts/${id}`;
    case 'channel':
      return `/channels/${id}`;
    case 'channel_post': {
      const ch = snapshot?.channel_id;
      return typeof ch === 'string' && ch ? `/channels/${ch}` : null;
    }
    default:
      return null;
  }
}

/** longDate writes a date and time in the interface language. */
export function longDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : formatDateTime(d);
}

/** whatHappened says in one sentence what a decision did to the person it concerns. */
export function whatHappened(s: Statement): string {
  const thing = s.target_type === 'account' ? t('moderation.happened.yourAccount') : t('moderation.happened.yourThing', { thing: targetWords[s.target_type]?.toLowerCase() ?? t('moderation.happened.content') });
  switch (s.action) {
    case 'dismiss':
      return t('moderation.happened.dismiss', { thing });
    case 'label':
      return t('moderation.happened.label', { thing, label: s.label ?? '' });
    case 'limit':
      return t('moderation.happened.limit', { thing });
    case 'remove':
      return t('moderation.happened.remove', { thing: cap(thing) });
    case 'suspend': {
      const parts = [s.ends_at ? t('moderation.happened.suspendedUntil', { time: longDate(s.ends_at) }) : t('moderation.happened.suspended')];
      if (s.duration_days) parts.push(t('moderation.happened.days', { count: s.duration_days }));
      return t('moderation.happened.suspend', { suspended: parts.join(' ') });
    }
    case 'close':
      return t('moderation.happened.close');
    default:
      return t('moderation.happened.other', { action: s.action });
  }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
