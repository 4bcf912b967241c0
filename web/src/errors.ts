// Plain words for the server's refusals: what happened and what the user
// can do next, in the interface language. Each error code has its own
// catalogue messages; the server's English message is shown only for a
// code this client does not know.
import { ApiError } from './api';
import { formatDateTime, t } from './i18n';

export interface Explained {
  title: string;
  next: string;
}

function when(v: unknown): string {
  const d = new Date(String(v));
  return Number.isNaN(d.getTime()) ? String(v) : formatDateTime(d);
}

export function explain(err: unknown): Explained {
  if (!(err instanceof ApiError)) {
    return { title: t('errors.unknown.title'), next: t('errors.unknown.next') };
  }
  const d = err.details;
  switch (err.code) {
    case 'network':
      return { title: t('errors.network.title'), next: t('errors.network.next') };
    case 'bad_credentials':
      return { title: t('errors.bad_credentials.title'), next: t('errors.bad_credentials.next') };
    case 'unauthenticated':
      return { title: t('errors.unauthenticated.title'), next: t('errors.unauthenticated.next') };
    case 'terms_acceptance_required':
      return {
        title: d.version ? t('errors.terms_acceptance_required.title', { version: String(d.version) }) : t('errors.terms_acceptance_required.titleNew'),
        next: t('errors.terms_acceptance_required.next'),
      };
    case 'verification_required':
      return d.level === 'identity'
        ? { title: t('errors.verification_required.identity.title'), next: t('errors.verification_required.identity.next') }
        : { title: t('errors.verification_required.phone.title'), next: t('errors.verification_required.phone.next') };
    case 'age_requirement':
      return {
        title: d.minimum_age ? t('errors.age_requirement.title', { age: String(d.minimum_age) }) : t('errors.age_requirement.titleUnknown'),
        next: t('errors.age_requirement.next'),
      };
    case 'category_not_authorized': {
      const why =
        d.policy === 'forbidden'
          ? t('errors.category_not_authorized.forbidden')
          : d.policy === 'credential'
            ? t('errors.category_not_authorized.credential')
            : d.policy === 'review'
              ? t('errors.category_not_authorized.review')
              : '';
      return {
        title: d.category
          ? t('errors.category_not_authorized.title', { category: String(d.category) })
          : t('errors.category_not_authorized.titleUnnamed'),
        next: `${why} ${t('errors.category_not_authorized.next')}`.trim(),
      };
    }
    case 'forbidden':
      if (d.reason === 'same_moderator') {
        return { title: t('errors.forbidden.same_moderator.title'), next: t('errors.forbidden.same_moderator.next') };
      }
      if (d.reason === 'memorialised') {
        return { title: t('errors.forbidden.memorialised.title'), next: t('errors.forbidden.memorialised.next') };
      }
      if (d.reason === 'appeal_window_closed') {
        return { title: t('errors.forbidden.appeal_window_closed.title'), next: t('errors.forbidden.appeal_window_closed.next') };
      }
      return { title: t('errors.forbidden.title'), next: t('errors.forbidden.next') };
    case 'decided_elsewhere':
      return { title: t('errors.decided_elsewhere.title'), next: t('errors.decided_elsewhere.next') };
    case 'recall_window_expired': {
      const m = Math.round(Number(d.window_seconds) / 60) || 2;
      return { title: t('errors.recall_window_expired.title', { count: m }), next: t('errors.recall_window_expired.next') };
    }
    case 'not_a_contact':
      return { title: t('errors.not_a_contact.title'), next: t('errors.not_a_contact.next') };
    case 'blocked':
      return { title: t('errors.blocked.title'), next: t('errors.blocked.next') };
    case 'quota_exceeded':
      return {
        title: t('errors.quota_exceeded.title'),
        next: d.next_allowed_at ? t('errors.quota_exceeded.nextAt', { time: when(d.next_allowed_at) }) : t('errors.quota_exceeded.next'),
      };
    case 'rate_limited': {
      const s = Number(d.retry_after_seconds);
      return { title: t('errors.rate_limited.title'), next: s > 0 ? t('errors.rate_limited.nextSeconds', { count: s }) : t('errors.rate_limited.next') };
    }
    case 'account_suspended': {
      const parts = [];
      if (d.reason) parts.push(t('errors.account_suspended.reason', { reason: String(d.reason) }));
      if (d.until) parts.push(t('errors.account_suspended.until', { time: when(d.until) }));
      parts.push(t('errors.account_suspended.next'));
      return { title: t('errors.account_suspended.title'), next: parts.join(' ') };
    }
    case 'account_closed':
      return {
        title: t('errors.account_closed.title'),
        next: d.reason ? t('errors.account_closed.reason', { reason: String(d.reason) }) : t('errors.account_closed.next'),
      };
    case 'conflict':
      return { title: t('errors.conflict.title'), next: t('errors.conflict.next') };
    case 'not_found':
      return { title: t('errors.not_found.title'), next: t('errors.not_found.next') };
    case 'payload_too_large':
      return { title: t('errors.payload_too_large.title'), next: t('errors.payload_too_large.next') };
    case 'gone':
      return { title: t('errors.gone.title'), next: t('errors.gone.next') };
    case 'unsupported_media_type':
      return { title: t('errors.unsupported_media_type.title'), next: t('errors.unsupported_media_type.next') };
    case 'cursor_expired':
      return { title: t('errors.cursor_expired.title'), next: t('errors.cursor_expired.next') };
    case 'insufficient_storage':
      return { title: t('errors.insufficient_storage.title'), next: t('errors.insufficient_storage.next') };
    case 'request_timeout':
      return { title: t('errors.request_timeout.title'), next: t('errors.request_timeout.next') };
    case 'unavailable':
      return { title: t('errors.unavailable.title'), next: t('errors.unavailable.next') };
    case 'method_not_allowed':
      return { title: t('errors.method_not_allowed.title'), next: t('errors.method_not_allowed.next') };
    case 'invalid_request':
      return { title: t('errors.invalid_request.title'), next: t('errors.invalid_request.next') };
    case 'internal':
      return {
        title: t('errors.internal.title'),
        next: d.request_id ? t('errors.internal.nextRequest', { request: String(d.request_id) }) : t('errors.internal.next'),
      };
    default:
      return { title: err.message || t('errors.default.title'), next: t('errors.default.next') };
  }
}
