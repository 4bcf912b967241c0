// What moderation decided about the signed-in person: their own reports
// with the outcome, the decisions about them, and one decision's statement
// of reasons with every point of DSA Art. 17(3) — what was done and for how
// long, the facts, where it came from, that no automated means decided it,
// the ground, the content concerned, and how and until when to appeal —
// with the appeal form and the appeal's outcome. None of these screens
// needs the stream, so a suspended or closed account can use them.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, List } from '../api';
import { explain } from '../errors';
import {
  actionWords,
  longDate,
  MyReport,
  Rule,
  ruleTitle,
  rules,
  Snapshot,
  sourceWords,
  Statement,
  targetPath,
  targetWords,
  whatHappened,
} from '../moderation';
import { textLang } from '../microblog';
import { linkHandler } from '../router';
import { describedBy, ErrorBox, Field } from '../ui';
import { t } from '../i18n';

/** useRules loads the published rules for naming them; failures leave it null. */
export function useRules(): Rule[] | null {
  const [list, setList] = useState<Rule[] | null>(null);
  useEffect(() => {
    let live = true;
    rules().then(
      (l) => live && setList(l),
      () => {},
    );
    return () => {
      live = false;
    };
  }, []);
  return list;
}

/** MeNav moves between the person's own moderation pages. */
export function MeNav({ at }: { at: 'reports' | 'decisions' | '' }) {
  const link = (href: string, label: string, here: boolean) => (
    <a href={href} onClick={linkHandler} class={here ? 'tab active' : 'tab'} aria-current={here ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <nav class="tabs mb-nav" aria-label={t('decisions.moderation')}>
      {link('/me/reports', t('decisions.myReports'), at === 'reports')}
      {link('/me/decisions', t('decisions.decisionsAboutYou'), at === 'decisions')}
    </nav>
  );
}

/** MyReports lists what the person reported and what became of it. */
export function MyReports() {
  const list = useRules();
  const [items, setItems] = useState<MyReport[] | null>(null);
  const [cursor, setCursor] = useState('');
  const [error, setError] = useState<unknown>(null);
  const load = async (c: string) => {
    try {
      const l = await api<List<MyReport>>('GET', `/me/reports${c ? `?cursor=${encodeURIComponent(c)}` : ''}`);
      setItems((cur) => [...(c ? cur ?? [] : []), ...(l.items ?? [])]);
      setCursor(l.next_cursor ?? '');
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    load('');
  }, []);
  return (
    <main class="page narrow">
      <MeNav at="reports" />
      <h1>{t('decisions.myReports')}</h1>
      <p class="muted">{t('decisions.whatYouReportedAnd')}</p>
      <ErrorBox error={error} />
      {items === null ? (
        !error && <p>{t('decisions.loading')}</p>
      ) : items.length === 0 ? (
        <p class="empty">{t('decisions.youHaveNotReported')}</p>
      ) : (
        <ul class="cards" aria-label={t('decisions.myReports')}>
          {items.map((r) => (
            <ReportRow key={r.id} r={r} list={list} />
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" onClick={() => load(cursor)}>
          {t('decisions.loadMore')}
        </button>
      )}
    </main>
  );
}

function ReportRow({ r, list }: { r: MyReport; list: Rule[] | null }) {
  const path = targetPath(r.target_type, r.target_id);
  const what = targetWords[r.target_type] ?? r.target_type;
  let state: string;
  if (r.status === 'open' || !r.outcome) state = t('decisions.state.open');
  else if (r.outcome.reversed) state = t('decisions.state.reversed', { action: actionWords[r.outcome.action] ?? r.outcome.action });
  else state = t('decisions.state.decided', { action: actionWords[r.outcome.action] ?? r.outcome.action });
  return (
    <li class="card report-row" data-report-id={r.id}>
      <div class="row spread">
        <strong>
          {path ? (
            <a href={path} onClick={linkHandler}>
              {what}
            </a>
          ) : (
            what
          )}
        </strong>
        <span class={r.status === 'open' ? 'pill open' : 'pill decided'}>{r.status === 'open' ? t('decisions.open') : t('decisions.decided')}</span>
      </div>
      <div class="muted">
        {ruleTitle(list, r.rule_id)} {t('decisions.reported')} {longDate(r.created_at)}
      </div>
      {r.comment && (
        <p class="quote-text" lang={textLang(r.comment)}>
          “{r.comment}”
        </p>
      )}
      <p class="report-state">
        {state}
        {r.outcome?.decided_at ? ` (${longDate(r.outcome.decided_at)})` : ''}.
      </p>
    </li>
  );
}

/** DecisionList lists the decisions about the person, newest first. */
export function DecisionList() {
  const [items, setItems] = useState<Statement[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<List<Statement>>('GET', '/me/decisions').then((l) => setItems(l.items ?? []), setError);
  }, []);
  return (
    <main class="page narrow">
      <MeNav at="decisions" />
      <h1>{t('decisions.decisionsAboutYou')}</h1>
      <p class="muted">{t('decisions.eachDecisionAModerator')}</p>
      <ErrorBox error={error} />
      {items === null ? !error && <p>{t('decisions.loading')}</p> : <DecisionRows items={items} />}
    </main>
  );
}

/** DecisionRows is the list of statements, each linked to its page. */
export function DecisionRows({ items }: { items: Statement[] }) {
  if (items.length === 0) return <p class="empty">{t('decisions.noModeratorHasDecided')}</p>;
  return (
    <ul class="cards" aria-label={t('decisions.decisions')}>
      {items.map((s) => (
        <li key={s.id} class="card">
          <a href={`/me/decisions/${s.id}`} onClick={linkHandler} class="decision-link">
            <strong>
              {actionWords[s.action] ?? s.action}: {targetWords[s.target_type] ?? s.target_type}
            </strong>
          </a>
          <div class="muted">
            {longDate(s.created_at)} · {s.rule ? t('decisions.ruleIdTitle', { id: s.rule.id, title: s.rule.title }) : ''}
          </div>
          <div>
            {s.status === 'reversed'
              ? t('decisions.reversed')
              : s.appeal
                ? s.appeal.status === 'open'
                  ? t('decisions.appealWaitingForA')
                  : s.appeal.outcome === 'upheld'
                    ? t('decisions.appealDecidedUpheld')
                    : t('decisions.appealDecidedReversed')
                : t('decisions.inForce')}
          </div>
        </li>
      ))}
    </ul>
  );
}

/** DecisionPage shows one statement of reasons with its appeal. */
export function DecisionPage({ id }: { id: string }) {
  const [s, setS] = useState<Statement | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () =>
    api<Statement>('GET', `/me/decisions/${encodeURIComponent(id)}`).then(
      (x) => {
        setS(x);
        setError(null);
      },
      setError,
    );
  useEffect(() => {
    load();
  }, [id]);
  return (
    <main class="page narrow">
      <MeNav at="" />
      <a href="/me/decisions" onClick={linkHandler} class="back-link">
        {t('decisions.decisionsAboutYou2')}
      </a>
      <ErrorBox error={error} />
      {s && <StatementView s={s} onChange={load} />}
    </main>
  );
}

/** StatementView is the statement of reasons itself. */
export function StatementView({ s, onChange, headingLevel = 1 }: { s: Statement; onChange: () => void; headingLevel?: 1 | 2 }) {
  const H = headingLevel === 1 ? 'h1' : 'h2';
  const Sub = headingLevel === 1 ? 'h2' : 'h3';
  const reversed = s.status === 'reversed';
  const what = targetWords[s.target_type] ?? s.target_type;
  return (
    <article class="statement" aria-labelledby={`statement-${s.id}`} data-decision-id={s.id}>
      <H id={`statement-${s.id}`}>
        {t('decisions.statementOfReasons')} {actionWords[s.action] ?? s.action}
      </H>
      <p class="muted">
        {t('decisions.decision')} {s.id} · {longDate(s.created_at)} · {what}
      </p>
      {reversed && (
        <p class="mod-note reversed" role="status">
          <strong>{t('decisions.thisDecisionWasReversed')}</strong> {t('decisions.itNoLongerApplies')}
        </p>
      )}

      <section aria-labelledby={`st-${s.id}-what`}>
        <Sub id={`st-${s.id}-what`}>{t('decisions.whatWasDecided')}</Sub>
        <p>{whatHappened(s)}</p>
        <p class="muted">
          {s.action === 'suspend' && s.ends_at
            ? t('decisions.durationUntilV', { date: longDate(s.ends_at) })
            : s.action === 'dismiss'
              ? t('decisions.nothingChanges')
              : t('decisions.durationUntilItIs')}
        </p>
      </section>

      <section aria-labelledby={`st-${s.id}-why`}>
        <Sub id={`st-${s.id}-why`}>{t('decisions.factsAndReasons')}</Sub>
        <p class="statement-reason" lang={textLang(s.reason)}>
          {s.reason || t('decisions.theModeratorGaveNo')}
        </p>
      </section>

      <section aria-labelledby={`st-${s.id}-how`}>
        <Sub id={`st-${s.id}-how`}>{t('decisions.howItCameAbout')}</Sub>
        <p>{sourceWords[s.source] ?? s.source}</p>
        <p>
          {s.automated
            ? t('decisions.automatedMeansWereUsed')
            : t('decisions.noAutomatedMeansWere')}
        </p>
      </section>

      <section aria-labelledby={`st-${s.id}-ground`}>
        <Sub id={`st-${s.id}-ground`}>{t('decisions.ground')}</Sub>
        {s.ground === 'law' ? (
          <p>
            {t('decisions.theLaw')}{s.legal_basis ? `: ${s.legal_basis}` : ''}.
            {s.rule && t('decisions.plazasRuleIdTitle', { id: s.rule.id, title: s.rule.title })}
          </p>
        ) : (
          <p>
            {t('decisions.plazasTermsRule')} {s.rule?.id}: <strong>{s.rule?.title}</strong>.
          </p>
        )}
      </section>

      <section aria-labelledby={`st-${s.id}-content`}>
        <Sub id={`st-${s.id}-content`}>{t('decisions.theContentConcerned')}</Sub>
        <SnapshotView snap={s.content} type={s.target_type} />
      </section>

      <section aria-labelledby={`st-${s.id}-appeal`}>
        <Sub id={`st-${s.id}-appeal`}>{t('decisions.howToAppeal')}</Sub>
        <AppealBox s={s} onChange={onChange} />
        <p class="muted small">
          {t('decisions.youMayAlsoTake')}
        </p>
      </section>
    </article>
  );
}

/** AppealBox is the appeal form, or the appeal's state and outcome. */
function AppealBox({ s, onChange }: { s: Statement; onChange: () => void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [fieldError, setFieldError] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [closedWindow, setClosedWindow] = useState(false);
  const deadline = s.appeal_deadline ? new Date(s.appeal_deadline) : null;
  const open = !!deadline && deadline.getTime() > Date.now() && !closedWindow;
  const fid = `appeal-${s.id}`;

  const send = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    if (!text.trim()) {
      setFieldError(t('decisions.sayWhyYouThink'));
      return;
    }
    setBusy(true);
    setError(null);
    setFieldError('');
    try {
      await api('POST', `/me/decisions/${s.id}/appeal`, { text: text.trim() });
      setText('');
      onChange();
    } catch (err) {
      if (err instanceof ApiError && err.details.reason === 'appeal_window_closed') setClosedWindow(true);
      const f = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
      if (f.text) setFieldError(f.text);
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (s.appeal) {
    const a = s.appeal;
    return (
      <div class="appeal-state" role="status">
        {a.status === 'open' ? (
          <p>
            <strong>{t('decisions.yourAppealIsWaiting')}</strong> {t('decisions.aModeratorOtherThan')}
          </p>
        ) : (
          <>
            <p>
              <strong>{a.outcome === 'reversed' ? t('decisions.yourAppealSucceededThe') : t('decisions.yourAppealWasDecided')}</strong>
            </p>
            {a.reason && (
              <p lang={textLang(a.reason)}>
                <span class="muted">{t('decisions.reason')} </span>
                {a.reason}
              </p>
            )}
          </>
        )}
      </div>
    );
  }
  if (s.status === 'reversed') return <p>{t('decisions.thereIsNothingTo')}</p>;
  if (!open) {
    return (
      <p>
        {deadline ? t('decisions.theTimeToAppealOn', { date: longDate(s.appeal_deadline) }) : t('decisions.theTimeToAppeal')} {error ? explain(error).title : ''}
      </p>
    );
  }
  return (
    <>
      <p>
        {t('decisions.youCanAppealUntil', { date: longDate(s.appeal_deadline) })}
      </p>
      <form onSubmit={send} class="appeal-form">
        <Field id={fid} label={t('decisions.whyTheDecisionIs')} error={fieldError}>
          <textarea
            id={fid}
            rows={4}
            value={text}
            onInput={(e) => {
              setText(e.currentTarget.value);
              setFieldError('');
            }}
            aria-invalid={fieldError ? true : undefined}
            aria-describedby={describedBy(fid, fieldError)}
          />
        </Field>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
          {busy ? t('decisions.sending') : t('decisions.appeal')}
        </button>
      </form>
    </>
  );
}

/** SnapshotView shows content as it was when reported or decided, even if it changed or was deleted since. */
export function SnapshotView({ snap, type }: { snap: Snapshot | null; type: string }) {
  if (!snap) return <p class="muted">{t('decisions.theContentWasNot')}</p>;
  const media = snap.media_ids?.length ?? 0;
  const who = snap.display_name || snap.name;
  return (
    <figure class="snapshot">
      {(who || snap.handle) && (
        <p class="snapshot-who" lang={textLang(String(who ?? ''))}>
          {who && <strong>{who}</strong>} {snap.handle && <span class="muted">@{snap.handle}</span>}
        </p>
      )}
      {snap.title && (
        <p class="snapshot-title" lang={textLang(snap.title)}>
          <strong>{snap.title}</strong>
        </p>
      )}
      {snap.text && (
        <blockquote class="snapshot-text" lang={textLang(snap.text)}>
          {snap.text}
        </blockquote>
      )}
      {!snap.text && typeof snap.body === 'string' && snap.body && (
        <blockquote class="snapshot-text" lang={textLang(snap.body)}>
          {snap.body}
        </blockquote>
      )}
      {snap.description && <p lang={textLang(snap.description)}>{snap.description}</p>}
      {media > 0 && <p class="muted">{t('decisions.attachments', { count: media })}</p>}
      <figcaption class="muted">
        {targetWords[type as keyof typeof targetWords] ?? type}
        {snap.created_at ? t('decisions.createdV', { date: longDate(snap.created_at) }) : ''}
        {t('decisions.asItWasWhen')}
      </figcaption>
    </figure>
  );
}
