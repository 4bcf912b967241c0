// Where a suspended or closed account lands after signing in: what happened,
// the decision that did it with its statement of reasons and appeal form,
// the other decisions, and what the person can still do (download their
// data, delete the account, sign out). It needs no stream, which the
// server refuses them.
import { useEffect, useState } from 'preact/hooks';
import { api, List, Me } from '../api';
import { longDate, Statement } from '../moderation';
import { ErrorBox } from '../ui';
import { DecisionRows, StatementView } from './Decisions';
import { DeleteAccount, DownloadYourData } from './YourData';
import { t } from '../i18n';

interface Props {
  me: Me & { status_reason?: string; status_until?: string; status_decision_id?: string };
  setMe: (m: Me) => void;
  onRecheck: () => void;
  signOut: () => void;
}

/** Restricted is the landing page of a suspended or closed account. */
export function Restricted({ me, setMe, onRecheck, signOut }: Props) {
  const [items, setItems] = useState<Statement[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () =>
    api<List<Statement>>('GET', '/me/decisions').then(
      (l) => {
        setItems(l.items ?? []);
        setError(null);
      },
      setError,
    );
  useEffect(() => {
    load();
  }, []);

  const closed = me.status === 'closed';
  // The decision that suspended or closed the account: the one the server
  // names, else the newest suspension or closure still in force.
  const named = me.status_decision_id;
  const deciding =
    items?.find((s) => s.id === named) ??
    items?.find((s) => (s.action === (closed ? 'close' : 'suspend')) && s.status === 'in_force') ??
    null;
  const others = items?.filter((s) => s !== deciding) ?? [];

  return (
    <main class="page narrow restricted">
      <h1>{closed ? t('restricted.yourAccountIsClosed') : t('restricted.yourAccountIsSuspended')}</h1>
      <p>
        {closed
          ? t('restricted.youCannotPostSend')
          : me.status_until
            ? t('restricted.youCannotPostSendUntil', { date: longDate(me.status_until) })
            : t('restricted.youCannotPostSend')}{' '}
        {t('restricted.youCanStillRead')}
      </p>
      <ErrorBox error={error} />
      {items === null && !error && <p>{t('restricted.loadingTheDecision')}</p>}
      {deciding && (
        <div class="card">
          <StatementView s={deciding} onChange={load} headingLevel={2} />
        </div>
      )}
      {items !== null && !deciding && me.status_reason && <p>{t('restricted.reasonGiven')} {me.status_reason}</p>}
      {others.length > 0 && (
        <section aria-labelledby="other-decisions-h">
          <h2 id="other-decisions-h">{t('restricted.otherDecisionsAboutYou')}</h2>
          <DecisionRows items={others} />
        </section>
      )}
      <section aria-labelledby="still-h">
        <h2 id="still-h">{t('restricted.whatYouCanStill')}</h2>
        <div class="actions">
          <button type="button" onClick={onRecheck}>
            {t('restricted.checkMyAccountAgain')}
          </button>
          <button type="button" class="danger-inline" onClick={signOut}>
            {t('restricted.signOut')}
          </button>
        </div>
        <DownloadYourData handle={me.handle} headingLevel={3} />
        <DeleteAccount me={me} setMe={setMe} headingLevel={3} />
      </section>
    </main>
  );
}
