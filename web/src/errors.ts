// Plain words for the server's refusals: what happened and what the user
// can do next. The server's own message is kept as a fallback.
import { ApiError } from './api';

export interface Explained {
  title: string;
  next: string;
}

export function explain(err: unknown): Explained {
  if (!(err instanceof ApiError)) {
    return { title: 'Something went wrong.', next: 'Try again in a moment.' };
  }
  const d = err.details;
  switch (err.code) {
    case 'network':
      return { title: 'Plaza cannot be reached.', next: 'Check your connection; the app retries by itself.' };
    case 'bad_credentials':
      return { title: 'The handle or the password is wrong.', next: 'Check both and try again.' };
    case 'unauthenticated':
      return { title: 'You are not signed in, or your session ended.', next: 'Sign in again.' };
    case 'terms_acceptance_required':
      return {
        title: `Plaza's terms have changed (version ${d.version ?? 'new'}).`,
        next: 'Read and accept the current terms to continue.',
      };
    case 'verification_required':
      return d.level === 'identity'
        ? { title: 'This needs a verified identity.', next: 'Submit your identity document in settings and wait for review.' }
        : { title: 'This needs a verified phone number.', next: 'Verify your phone number in settings, then try again.' };
    case 'age_requirement':
      return {
        title: `You must be at least ${d.minimum_age ?? 'the minimum'} years old to use Plaza.`,
        next: 'Nothing was stored.',
      };
    case 'category_not_authorized': {
      const why: Record<string, string> = {
        forbidden: 'Posts in this category are not allowed.',
        credential: 'This category needs a credential from the operator, and your account has none that is valid.',
        review: 'This category needs review.',
      };
      return {
        title: `You cannot post in “${d.category ?? 'this category'}”.`,
        next: `${why[String(d.policy)] ?? ''} Choose another category, or ask the operator for a credential.`.trim(),
      };
    }
    case 'forbidden':
      if (d.reason === 'same_moderator') {
        return { title: 'You took this decision, so you cannot decide its appeal.', next: 'Another moderator must review it.' };
      }
      if (d.reason === 'memorialised') {
        return { title: 'This account is memorialised.', next: 'No one can sign in to it any more; it stays as it was, in memory of its owner.' };
      }
      if (d.reason === 'appeal_window_closed') {
        return { title: 'The time to appeal this decision has ended.', next: 'Appeals are possible for 180 days after a decision.' };
      }
      return { title: 'You are not allowed to do that.', next: 'Only the owner, editors or operators with the right role can.' };
    case 'decided_elsewhere':
      return { title: 'Another moderator decided this first.', next: 'The queue was reloaded; their decision stands.' };
    case 'recall_window_expired': {
      const m = Math.round(Number(d.window_seconds) / 60) || 2;
      return { title: `Too late to recall: messages can be recalled only within ${m} minutes of sending.`, next: 'This one stays as it is.' };
    }
    case 'not_a_contact':
      return { title: 'You can only message your contacts.', next: 'Send them a contact request and wait until they accept.' };
    case 'blocked':
      return { title: 'This person does not accept messages from you.', next: 'There is nothing more you can do here.' };
    case 'quota_exceeded':
      return {
        title: 'You have reached your limit for now.',
        next: d.next_allowed_at ? `You can try again after ${new Date(String(d.next_allowed_at)).toLocaleString()}.` : 'Free some space or try again later.',
      };
    case 'rate_limited': {
      const s = Number(d.retry_after_seconds);
      return { title: 'Too many attempts.', next: s > 0 ? `Wait ${s} seconds and try again.` : 'Wait a little and try again.' };
    }
    case 'account_suspended':
      return {
        title: 'Your account is suspended.',
        next: `${d.reason ? `Reason: ${d.reason}. ` : ''}${d.until ? `Until ${new Date(String(d.until)).toLocaleString()}. ` : ''}You can read the decision and appeal it under Settings › Decisions about you, and still export or delete your data.`,
      };
    case 'account_closed':
      return { title: 'Your account is closed.', next: d.reason ? `Reason: ${d.reason}.` : 'You can still export your data.' };
    case 'conflict':
      return { title: err.message, next: 'Choose something else.' };
    case 'not_found':
      return { title: 'That does not exist, or you cannot see it.', next: 'Check the link or the ID.' };
    case 'payload_too_large':
      return { title: 'That is too large.', next: 'Try something smaller.' };
    case 'invalid_request':
      return { title: err.message, next: 'Correct the marked fields and try again.' };
    case 'internal':
      return {
        title: 'The server had a problem.',
        next: `Try again; if it keeps happening, tell the operator${d.request_id ? ` (request ${d.request_id})` : ''}.`,
      };
    default:
      return { title: err.message || 'The server refused.', next: 'Try again later.' };
  }
}
