// The console's first screen: what waits in each queue the operator's roles
// work (each count opens its queue), and what each role may do, so that a
// new operator knows whom to grant what.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { formatNumber, Key, t } from '../i18n';
import { ErrorBox } from '../ui';

interface Overview {
  roles: string[];
  waiting: Record<string, number>;
  count_limit: number;
}

/** The queues, in the order the console's tabs show them, with the tab each opens. */
const queues: { name: string; tab: string; label: Key }[] = [
  { name: 'identity_reviews', tab: 'identity', label: 'operator.waiting.identity_reviews' },
  { name: 'channel_applications', tab: 'applications', label: 'operator.waiting.channel_applications' },
  { name: 'post_reviews', tab: 'posts', label: 'operator.waiting.post_reviews' },
  { name: 'microblog_reviews', tab: 'microblog', label: 'operator.waiting.microblog_reviews' },
  { name: 'reports', tab: 'reports', label: 'operator.waiting.reports' },
  { name: 'appeals', tab: 'appeals', label: 'operator.waiting.appeals' },
];

const roles: { role: string; does: Key }[] = [
  { role: 'admin', does: 'operator.role.admin' },
  { role: 'moderator', does: 'operator.role.moderator' },
  { role: 'reviewer', does: 'operator.role.reviewer' },
  { role: 'compliance', does: 'operator.role.compliance' },
];

export function ConsoleOverview({ open }: { open: (tab: string) => void }) {
  const [o, setO] = useState<Overview | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<Overview>('GET', '/admin/overview').then(setO, setError);
  }, []);
  const shown = o ? queues.filter((q) => q.name in o.waiting) : [];
  return (
    <section class="console-overview" aria-labelledby="overview-h">
      <h2 id="overview-h">{t('operator.waitingTitle')}</h2>
      <ErrorBox error={error} />
      {o && (
        <ul class="waiting">
          {shown.map((q) => {
            const n = o.waiting[q.name];
            return (
              <li key={q.name}>
                <button type="button" class={n > 0 ? 'waiting-item busy' : 'waiting-item'} onClick={() => open(q.tab)}>
                  <span class="waiting-count">{n >= o.count_limit ? `${formatNumber(o.count_limit)}+` : formatNumber(n)}</span>
                  <span>{t(q.label, { count: n })}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <details class="roles-help">
        <summary>{t('operator.rolesTitle')}</summary>
        <dl>
          {roles.map((r) => (
            <div key={r.role}>
              <dt>
                {t(`operator.roleName.${r.role}` as Key)}
                {o?.roles.includes(r.role) && <span class="muted"> {t('operator.yours')}</span>}
              </dt>
              <dd>{t(r.does)}</dd>
            </div>
          ))}
        </dl>
        <p>{t('operator.grantHow')}</p>
        <p>{t('operator.publicAccounts')}</p>
      </details>
    </section>
  );
}
