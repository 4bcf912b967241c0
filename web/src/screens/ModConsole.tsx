// The moderators' part of the operator console: the report queue (oldest
// first, filtered by rule and by what was reported) with each target's
// snapshot, its reports with comments and attached messages, the account's
// earlier decisions and the decision form; acting without a report (own
// initiative or an authority order); the appeal queue, where a moderator
// other than the one who decided upholds or reverses; and, for admins,
// authority orders and the published rules.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, List } from '../api';
import {
  Action,
  actionHelp,
  actionsFor,
  actionWords,
  AppealItem,
  AuthorityOrder,
  forgetRules,
  longDate,
  outcomeWords,
  QueueItem,
  QueueReport,
  Rule,
  ruleTitle,
  sourceWords,
  Statement,
  TargetType,
  targetPath,
  targetWords,
} from '../moderation';
import { textLang } from '../microblog';
import { linkHandler } from '../router';
import { useSession } from '../app';
import { ErrorBox, Field } from '../ui';
import { Name } from './Contacts';
import { SnapshotView, useRules } from './Decisions';
import { t } from '../i18n';
import { words } from '../words';

const targetTypes = Object.keys(targetWords) as TargetType[];

/** ReportQueue is the moderators' queue of reported targets. */
export function ReportQueue() {
  const list = useRules();
  const [status, setStatus] = useState<'open' | 'decided'>('open');
  const [rule, setRule] = useState('');
  const [type, setType] = useState('');
  const [items, setItems] = useState<QueueItem[] | null>(null);
  const [cursor, setCursor] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const query = (c: string) => {
    const q = new URLSearchParams({ status });
    if (rule) q.set('rule_id', rule);
    if (type) q.set('target_type', type);
    if (c) q.set('cursor', c);
    return `/admin/reports?${q}`;
  };
  const load = async (c = '') => {
    try {
      const l = await api<List<QueueItem>>('GET', query(c));
      setItems((cur) => [...(c ? cur ?? [] : []), ...(l.items ?? [])]);
      setCursor(l.next_cursor ?? '');
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    setItems(null);
    load();
  }, [status, rule, type]);

  return (
    <>
      <h2>{t('modConsole.reportsHeading')}</h2>
      <p class="muted">{t('modConsole.oldestFirstPrivateMessages')}</p>
      <div class="filters" role="group" aria-label={t('modConsole.filterReports')}>
        <div class="field">
          <label for="q-status">{t('modConsole.status')}</label>
          <select id="q-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as 'open' | 'decided')}>
            <option value="open">{t('modConsole.open')}</option>
            <option value="decided">{t('modConsole.decidedStatus')}</option>
          </select>
        </div>
        <div class="field">
          <label for="q-rule">{t('modConsole.rule')}</label>
          <select id="q-rule" value={rule} onChange={(e) => setRule(e.currentTarget.value)}>
            <option value="">{t('modConsole.allRules')}</option>
            {list?.map((r) => (
              <option key={r.id} value={String(r.id)}>
                {r.id}. {r.title}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="q-type">{t('modConsole.reported')}</label>
          <select id="q-type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
            <option value="">{t('modConsole.everything')}</option>
            {targetTypes.map((t) => (
              <option key={t} value={t}>
                {targetWords[t]}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorBox error={error} />
      <p role="status" class="queue-done">
        {done}
      </p>
      {items === null ? (
        !error && <p>{t('modConsole.loading')}</p>
      ) : items.length === 0 ? (
        <p class="empty">{status === 'open' ? t('modConsole.noReportsAreWaiting') : t('modConsole.nothingDecidedMatches')}</p>
      ) : (
        <ul class="cards" aria-label={t('modConsole.reportedItems')}>
          {items.map((it) => (
            <QueueCard
              key={it.id}
              it={it}
              list={list}
              onDecided={(what) => {
                setDone(what);
                load();
              }}
            />
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" onClick={() => load(cursor)}>
          {t('modConsole.loadMore')}
        </button>
      )}
      <OwnInitiative list={list} />
    </>
  );
}

function QueueCard({ it, list, onDecided }: { it: QueueItem; list: Rule[] | null; onDecided: (what: string) => void }) {
  const what = targetWords[it.target_type] ?? it.target_type;
  const path = targetPath(it.target_type, it.target_id, it.snapshot);
  const reports = it.reports ?? [];
  const history = it.history ?? [];
  // The rule most reporters chose is the likely one.
  const tally = new Map<number, number>();
  for (const r of reports) tally.set(r.rule_id, (tally.get(r.rule_id) ?? 0) + 1);
  const likely = [...tally.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? list?.[0]?.id ?? 0;
  return (
    <li class="card queue-item" data-item-id={it.id} aria-labelledby={`qi-${it.id}`}>
      <div class="row spread">
        <h3 id={`qi-${it.id}`} class="queue-title">
          {what} {path ? (
            <a href={path} onClick={linkHandler} class="mono">
              {it.target_id}
            </a>
          ) : (
            <span class="mono">{it.target_id}</span>
          )}
        </h3>
        <span class="pill">{t('modConsole.reports', { count: it.report_count })}</span>
      </div>
      <div class="muted">
        {it.owner_id && (
          <>
            {t('modConsole.by')} <Name id={it.owner_id} /> ·{' '}
          </>
        )}
        {t('modConsole.firstReported')} {longDate(it.created_at)}
      </div>
      <SnapshotView snap={it.snapshot} type={it.target_type} />
      <h4>{t('modConsole.reportsHeading')}</h4>
      <ol class="report-list" aria-label={t('modConsole.reportsHeading')}>
        {reports.map((r) => (
          <ReportEntry key={r.id} r={r} list={list} targetID={it.target_id} />
        ))}
      </ol>
      <h4>{t('modConsole.earlierDecisionsAboutThis')}</h4>
      {history.length === 0 ? (
        <p class="muted">{t('modConsole.none')}</p>
      ) : (
        <ul class="history" aria-label={t('modConsole.earlierDecisions')}>
          {history.map((h) => (
            <li key={h.id}>
              {longDate(h.created_at)}: {actionWords[h.action] ?? h.action} · {h.rule_title ? t('modConsole.ruleRuleIdRule', { rule_id: h.rule_id, rule_title: h.rule_title }) : ruleTitle(list, h.rule_id)}
              {h.status === 'reversed' ? t('modConsole.reversed') : ''}
            </li>
          ))}
        </ul>
      )}
      {it.status === 'open' && (
        <DecisionForm
          idPrefix={`d-${it.id}`}
          targetType={it.target_type}
          report
          list={list}
          defaultRule={likely}
          submitLabel={t('modConsole.decide')}
          send={(body) => api<Statement & { decision_id: string }>('POST', `/admin/reports/${it.id}/decision`, body)}
          onDone={onDecided}
        />
      )}
    </li>
  );
}

function ReportEntry({ r, list, targetID }: { r: QueueReport; list: Rule[] | null; targetID: string }) {
  const evidence = r.evidence ?? [];
  return (
    <li>
      <div>
        <strong>{r.rule_title ? t('modConsole.ruleRuleIdRule', { rule_id: r.rule_id, rule_title: r.rule_title }) : ruleTitle(list, r.rule_id)}</strong> · <Name id={r.reporter_id} /> · <span class="muted">{longDate(r.created_at)}</span>
      </div>
      {r.comment ? (
        <p class="quote-text" lang={textLang(r.comment)}>
          “{r.comment}”
        </p>
      ) : (
        <p class="muted">{t('modConsole.noComment')}</p>
      )}
      {evidence.length > 0 && (
        <details class="evidence" open>
          <summary>{t('modConsole.attachedMessagesCount', { count: evidence.length })}</summary>
          <ol aria-label={t('modConsole.attachedMessages2')}>
            {evidence.map((m) => (
              <li key={m.id} class={m.id === targetID ? 'reported' : undefined}>
                <span class="muted">
                  {m.owner_id || m.sender_id ? <Name id={String(m.owner_id || m.sender_id)} /> : t('modConsole.someone')}, {longDate(m.created_at)}
                  {m.id === targetID ? t('modConsole.reported2') : ''}:
                </span>{' '}
                <span lang={textLang(m.text ?? '')}>{m.text || `[${m.kind ?? 'message'}]`}</span>
              </li>
            ))}
          </ol>
        </details>
      )}
    </li>
  );
}

interface DecisionBody {
  action: Action;
  rule_id: number;
  reason: string;
  label?: string;
  duration_days?: number;
}

interface FormProps {
  idPrefix: string;
  targetType: TargetType;
  /** report is false for a decision taken without a report. */
  report: boolean;
  list: Rule[] | null;
  defaultRule: number;
  submitLabel: string;
  send: (body: DecisionBody) => Promise<Statement & { decision_id?: string }>;
  /** onDone receives what was decided, in words, once the server took it. */
  onDone: (what: string) => void;
}

/** DecisionForm asks for an action, the rule, the reasons and, where they apply, the label and the days. */
function DecisionForm({ idPrefix, targetType, report, list, defaultRule, submitLabel, send, onDone }: FormProps) {
  const { me } = useSession();
  const actions = actionsFor(targetType, { report, admin: me.roles?.includes('admin') });
  const [action, setAction] = useState<Action | ''>('');
  const [ruleID, setRuleID] = useState(defaultRule);
  const [reason, setReason] = useState('');
  const [label, setLabel] = useState('');
  const [days, setDays] = useState('7');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!ruleID && defaultRule) setRuleID(defaultRule);
  }, [defaultRule]);
  // An edited field loses its error at once.
  const edit = <T,>(field: string, set: (v: T) => void) => (v: T) => {
    set(v);
    if (fields[field]) setFields(({ [field]: _, ...rest }) => rest);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    const f: Record<string, string> = {};
    if (!action) f.action = t('modConsole.chooseAnAction');
    if (!ruleID) f.rule_id = t('modConsole.chooseTheRule');
    if (action && action !== 'dismiss' && !reason.trim()) f.reason = t('modConsole.giveTheReasonsThe');
    if (action === 'label' && !label.trim()) f.label = t('modConsole.writeTheNoteShown');
    if (action === 'suspend' && !(Number(days) >= 1)) f.duration_days = t('modConsole.atLeastOneDay');
    setFields(f);
    if (Object.keys(f).length || !action) return;
    setBusy(true);
    setError(null);
    try {
      const body: DecisionBody = { action, rule_id: ruleID, reason: reason.trim() };
      if (action === 'label') body.label = label.trim();
      if (action === 'suspend') body.duration_days = Number(days);
      const d = await send(body);
      const what = t('modConsole.decided', { action: actionWords[action], id: d.decision_id ?? d.id });
      setDone(what);
      onDone(what);
    } catch (err) {
      const ff = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
      if (Object.keys(ff).length) setFields(ff);
      else if (err instanceof ApiError && err.code === 'conflict') {
        setError(new ApiError(409, 'decided_elsewhere', t('modConsole.anotherModeratorDecidedThis')));
        onDone('');
      } else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="decision-form" onSubmit={submit} aria-label={t('modConsole.decision')} noValidate>
      <fieldset class="plain">
        <legend>{t('modConsole.action')}</legend>
        <div class="action-options">
          {actions.map((a) => (
            <label key={a} class={action === a ? 'action-option on' : 'action-option'} title={actionHelp[a]}>
              <input type="radio" name={`${idPrefix}-action`} value={a} checked={action === a} onChange={() => edit('action', setAction)(a)} />
              {actionLabel[a]}
            </label>
          ))}
        </div>
        {action && <p class="hint">{actionHelp[action]}</p>}
        {fields.action && <p class="field-error">{fields.action}</p>}
      </fieldset>
      <Field id={`${idPrefix}-rule`} label={t('modConsole.ruleCited')} error={fields.rule_id}>
        <select id={`${idPrefix}-rule`} value={String(ruleID)} onChange={(e) => edit('rule_id', setRuleID)(Number(e.currentTarget.value))}>
          {!ruleID && <option value="0">{t('modConsole.chooseARule')}</option>}
          {list?.map((r) => (
            <option key={r.id} value={String(r.id)}>
              {r.id}. {r.title}
            </option>
          ))}
        </select>
      </Field>
      <Field id={`${idPrefix}-reason`} label={action === 'dismiss' ? t('modConsole.reasonOptional') : t('modConsole.reasonShownToThe')} error={fields.reason}>
        <textarea id={`${idPrefix}-reason`} rows={3} value={reason} onInput={(e) => edit('reason', setReason)(e.currentTarget.value)} aria-invalid={fields.reason ? true : undefined} />
      </Field>
      {action === 'label' && (
        <Field id={`${idPrefix}-label`} label={t('modConsole.labelTextShownWith')} error={fields.label}>
          <input id={`${idPrefix}-label`} value={label} onInput={(e) => edit('label', setLabel)(e.currentTarget.value)} aria-invalid={fields.label ? true : undefined} />
        </Field>
      )}
      {action === 'suspend' && (
        <Field id={`${idPrefix}-days`} label={t('modConsole.suspendForDays')} error={fields.duration_days}>
          <input id={`${idPrefix}-days`} type="number" min={1} max={3650} inputMode="numeric" value={days} onInput={(e) => edit('duration_days', setDays)(e.currentTarget.value)} />
        </Field>
      )}
      <ErrorBox error={error} />
      <div class="row">
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
          {submitLabel}
        </button>
        <span role="status">{done}</span>
      </div>
    </form>
  );
}

const actionLabel = words<Action>({
  dismiss: 'modConsole.actionLabel.dismiss',
  label: 'modConsole.actionLabel.label',
  limit: 'modConsole.actionLabel.limit',
  remove: 'modConsole.actionLabel.remove',
  suspend: 'modConsole.actionLabel.suspend',
  close: 'modConsole.closeAccount',
});

/** OwnInitiative decides about a target nobody reported, or carries out an authority order. */
function OwnInitiative({ list }: { list: Rule[] | null }) {
  const [type, setType] = useState<TargetType>('post');
  const [target, setTarget] = useState('');
  const [order, setOrder] = useState('');
  const [targetError, setTargetError] = useState('');
  const [key, setKey] = useState(0);
  const [done, setDone] = useState('');
  return (
    <details class="own-initiative">
      <summary>{t('modConsole.actWithoutAReport')}</summary>
      <p class="muted">{t('modConsole.onYourOwnInitiative')}</p>
      <div class="filters">
        <div class="field">
          <label for="oi-type">{t('modConsole.targetType')}</label>
          <select id="oi-type" value={type} onChange={(e) => setType(e.currentTarget.value as TargetType)}>
            {targetTypes.filter((t) => t !== 'message').map((t) => (
              <option key={t} value={t}>
                {targetWords[t]}
              </option>
            ))}
          </select>
        </div>
        <Field id="oi-target" label={t('modConsole.targetId')} error={targetError}>
          <input id="oi-target" class="mono" inputMode="numeric" value={target} onInput={(e) => setTarget(e.currentTarget.value.trim())} />
        </Field>
        <Field id="oi-order" label={t('modConsole.authorityOrderIdOptional')}>
          <input id="oi-order" class="mono" inputMode="numeric" value={order} onInput={(e) => setOrder(e.currentTarget.value.trim())} />
        </Field>
      </div>
      <DecisionForm
        key={`${type}-${key}`}
        idPrefix="oi"
        targetType={type}
        report={false}
        list={list}
        defaultRule={list?.[0]?.id ?? 0}
        submitLabel={t('modConsole.decide')}
        send={(body) => {
          if (!target) {
            setTargetError(t('modConsole.giveTheIdOf'));
            return Promise.reject(new ApiError(400, 'invalid_request', t('modConsole.aTargetIdIs'), { fields: [{ field: 'target_id', rule: 'required' }] }));
          }
          setTargetError('');
          setDone('');
          const full: Record<string, unknown> = { ...body, target_type: type, target_id: target };
          if (order) full.authority_order_id = order;
          return api('POST', '/admin/decisions', full);
        }}
        onDone={(what) => {
          // A fresh form for the next decision; the last one's outcome stays in view.
          setDone(what);
          setTarget('');
          setOrder('');
          setKey((k) => k + 1);
        }}
      />
      <p role="status">{done}</p>
    </details>
  );
}

/** AppealQueue lists open appeals; the moderator who decided may not decide the appeal. */
export function AppealQueue() {
  const list = useRules();
  const [items, setItems] = useState<AppealItem[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () =>
    api<List<AppealItem>>('GET', '/admin/appeals?status=open').then(
      (l) => {
        setItems(l.items ?? []);
        setError(null);
      },
      setError,
    );
  useEffect(() => {
    load();
  }, []);
  return (
    <>
      <h2>{t('modConsole.appeals')}</h2>
      <p class="muted">{t('modConsole.aModeratorOtherThan')}</p>
      <ErrorBox error={error} />
      {items === null ? (
        !error && <p>{t('modConsole.loading')}</p>
      ) : items.length === 0 ? (
        <p class="empty">{t('modConsole.noAppealsAreWaiting')}</p>
      ) : (
        <ul class="cards" aria-label={t('modConsole.appeals')}>
          {items.map((a) => (
            <AppealCard key={a.id} a={a} list={list} onDone={load} />
          ))}
        </ul>
      )}
    </>
  );
}

function AppealCard({ a, list, onDone }: { a: AppealItem; list: Rule[] | null; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const [fieldError, setFieldError] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const d = a.decision;
  const decide = async (uphold: boolean) => {
    if (busy) return;
    if (!reason.trim()) {
      setFieldError(t('modConsole.giveTheReasonsThe2'));
      return;
    }
    setFieldError('');
    setError(null);
    setBusy(true);
    try {
      await api('POST', `/admin/appeals/${a.id}/decision`, { uphold, reason: reason.trim() });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const sameModerator = error instanceof ApiError && error.details.reason === 'same_moderator';
  return (
    <li class="card appeal-item" data-appeal-id={a.id} aria-labelledby={`ap-${a.id}`}>
      <h3 id={`ap-${a.id}`} class="queue-title">
        {t('modConsole.appealAgainst')} {actionWords[d.action] ?? d.action} · {targetWords[d.target_type] ?? d.target_type}
      </h3>
      <div class="muted">
        {t('modConsole.by')} <Name id={a.account_id} /> · {longDate(a.created_at)}
      </div>
      <p class="quote-text" lang={textLang(a.text)}>
        “{a.text}”
      </p>
      <h4>{t('modConsole.theDecision')}</h4>
      <dl class="facts">
        <dt>{t('modConsole.decidedStatus')}</dt>
        <dd>
          {longDate(d.created_at)}
          {d.moderator_id && (
            <>
              {' '}
              {t('modConsole.by2')} <Name id={d.moderator_id} />
            </>
          )}
        </dd>
        <dt>{t('modConsole.rule')}</dt>
        <dd>{d.rule ? t('modConsole.ruleIdTitle', { id: d.rule.id, title: d.rule.title }) : ruleTitle(list, 0)}</dd>
        <dt>{t('modConsole.source')}</dt>
        <dd>{sourceWords[d.source] ?? d.source}</dd>
        <dt>{t('modConsole.reason')}</dt>
        <dd lang={textLang(d.reason)}>{d.reason || '—'}</dd>
        {d.label && (
          <>
            <dt>{t('modConsole.label')}</dt>
            <dd>{d.label}</dd>
          </>
        )}
      </dl>
      <SnapshotView snap={d.content} type={d.target_type} />
      <Field id={`ap-reason-${a.id}`} label={t('modConsole.reasonForYourDecision')} error={fieldError}>
        <textarea
          id={`ap-reason-${a.id}`}
          rows={2}
          value={reason}
          onInput={(e) => {
            setReason(e.currentTarget.value);
            setFieldError('');
          }}
          aria-invalid={fieldError ? true : undefined}
        />
      </Field>
      {sameModerator ? (
        <div class="error-box" role="alert">
          <strong>{t('modConsole.youTookThisDecision')}</strong> <span>{t('modConsole.anotherModeratorMustReview')}</span>
        </div>
      ) : (
        <ErrorBox error={error} />
      )}
      <div class="actions">
        <button type="button" onClick={() => decide(true)} disabled={busy}>
          {t('modConsole.upholdTheDecision')}
        </button>
        <button type="button" class="primary" onClick={() => decide(false)} disabled={busy}>
          {t('modConsole.reverseTheDecision')}
        </button>
      </div>
    </li>
  );
}

/** AuthorityOrders records authorities' requests and lists them (admin). */
export function AuthorityOrders() {
  const [items, setItems] = useState<AuthorityOrder[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [form, setForm] = useState({ authority: '', legal_basis: '', received_at: '', scope: '', target_type: '', target_id: '', outcome: 'complied', note: '' });
  const [fields, setFields] = useState<Record<string, string>>({});
  const [saveError, setSaveError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const load = () =>
    api<List<AuthorityOrder>>('GET', '/admin/authority-orders').then(
      (l) => {
        setItems(l.items ?? []);
        setError(null);
      },
      setError,
    );
  useEffect(() => {
    load();
  }, []);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  const save = async (e: Event) => {
    e.preventDefault();
    setSaveError(null);
    setDone('');
    const f: Record<string, string> = {};
    if (!form.authority.trim()) f.authority = t('modConsole.nameTheAuthority');
    if (!form.legal_basis.trim()) f.legal_basis = t('modConsole.giveTheLegalBasis');
    if (!form.received_at) f.received_at = t('modConsole.whenDidItArrive');
    if (form.target_id && !form.target_type) f.target_id = t('modConsole.chooseTheTargetType');
    setFields(f);
    if (Object.keys(f).length) return;
    try {
      const body: Record<string, unknown> = {
        authority: form.authority.trim(),
        legal_basis: form.legal_basis.trim(),
        received_at: new Date(form.received_at).toISOString(),
        scope: form.scope.trim(),
        outcome: form.outcome,
        note: form.note.trim(),
      };
      if (form.target_type && form.target_id) {
        body.target_type = form.target_type;
        body.target_id = form.target_id;
      }
      const o = await api<AuthorityOrder>('POST', '/admin/authority-orders', body);
      setDone(t('modConsole.recordedAsOrderId', { id: o.id }));
      setForm({ ...form, authority: '', legal_basis: '', scope: '', target_id: '', note: '' });
      load();
    } catch (err) {
      const ff = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
      if (Object.keys(ff).length) setFields(ff);
      else setSaveError(err);
    }
  };

  return (
    <>
      <h2>{t('modConsole.authorityOrders')}</h2>
      <p class="muted">{t('modConsole.recordEveryRequestFrom')}</p>
      <form onSubmit={save} aria-label={t('modConsole.recordAnAuthorityOrder')} noValidate>
        <Field id="ao-authority" label={t('modConsole.authority')} error={fields.authority}>
          <input id="ao-authority" value={form.authority} onInput={set('authority')} />
        </Field>
        <Field id="ao-basis" label={t('modConsole.legalBasis')} error={fields.legal_basis}>
          <input id="ao-basis" value={form.legal_basis} onInput={set('legal_basis')} />
        </Field>
        <Field id="ao-received" label={t('modConsole.received')} error={fields.received_at}>
          <input id="ao-received" type="datetime-local" value={form.received_at} onInput={set('received_at')} />
        </Field>
        <Field id="ao-scope" label={t('modConsole.scopeWhatItAsks')} error={fields.scope}>
          <textarea id="ao-scope" rows={2} value={form.scope} onInput={set('scope')} />
        </Field>
        <div class="filters">
          <div class="field">
            <label for="ao-type">{t('modConsole.targetType')}</label>
            <select id="ao-type" value={form.target_type} onChange={set('target_type')}>
              <option value="">{t('modConsole.noneAGeneralRequest')}</option>
              {targetTypes.map((t) => (
                <option key={t} value={t}>
                  {targetWords[t]}
                </option>
              ))}
            </select>
          </div>
          <Field id="ao-target" label={t('modConsole.targetId')} error={fields.target_id}>
            <input id="ao-target" class="mono" inputMode="numeric" value={form.target_id} onInput={set('target_id')} />
          </Field>
          <div class="field">
            <label for="ao-outcome">{t('modConsole.outcome')}</label>
            <select id="ao-outcome" value={form.outcome} onChange={set('outcome')}>
              {Object.entries(outcomeWords).map(([k, v]) => (
                <option key={k} value={k}>
                  {v}
                </option>
              ))}
            </select>
          </div>
        </div>
        <Field id="ao-note" label={t('modConsole.note')} error={fields.note}>
          <textarea id="ao-note" rows={2} value={form.note} onInput={set('note')} />
        </Field>
        <ErrorBox error={saveError} />
        <div class="row">
          <button type="submit" class="primary">
            {t('modConsole.recordOrder')}
          </button>
          <span role="status">{done}</span>
        </div>
      </form>
      <h3>{t('modConsole.recordedOrders')}</h3>
      <ErrorBox error={error} />
      {items?.length === 0 && <p class="empty">{t('modConsole.noOrdersRecorded')}</p>}
      <ul class="cards" aria-label={t('modConsole.authorityOrders')}>
        {items?.map((o) => (
          <li key={o.id} class="card">
            <strong>{o.authority}</strong> · {outcomeWords[o.outcome] ?? o.outcome}
            <div class="muted">
              {t('modConsole.order')} {o.id} {t('modConsole.received2')} {longDate(o.received_at)} · {o.legal_basis}
            </div>
            {o.scope && <p>{o.scope}</p>}
            <div class="muted">
              {targetWords[o.target_type as TargetType] ?? o.target_type}
              {o.target_id ? ` ${o.target_id}` : ''}
              {o.note ? ` · ${o.note}` : ''}
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}

/** RulesAdmin edits the published rules' titles and descriptions (admin). */
export function RulesAdmin() {
  const list = useRules();
  const [edited, setEdited] = useState<Rule[] | null>(null);
  const rows = edited ?? list;
  return (
    <>
      <h2>{t('modConsole.rules')}</h2>
      <p class="muted">{t('modConsole.publishedAtRulesFor')}</p>
      {rows === null ? (
        <p>{t('modConsole.loading')}</p>
      ) : (
        <ul class="cards" aria-label={t('modConsole.rules')}>
          {rows.map((r) => (
            <RuleEditor
              key={r.id}
              r={r}
              onSaved={(x) => {
                forgetRules();
                setEdited((rows ?? []).map((y) => (y.id === x.id ? x : y)));
              }}
            />
          ))}
        </ul>
      )}
    </>
  );
}

function RuleEditor({ r, onSaved }: { r: Rule; onSaved: (r: Rule) => void }) {
  const [title, setTitle] = useState(r.title);
  const [description, setDescription] = useState(r.description);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone('');
    try {
      const x = await api<Rule>('PUT', `/admin/rules/${r.id}`, { title: title.trim(), description: description.trim() });
      onSaved(x ?? { ...r, title, description });
      setDone(t('common.saved'));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <li class="card">
      <form onSubmit={save} aria-label={t('modConsole.ruleId', { id: r.id })}>
        <Field id={`rule-${r.id}-title`} label={t('modConsole.ruleIdTitle2', { id: r.id })}>
          <input id={`rule-${r.id}-title`} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </Field>
        <Field id={`rule-${r.id}-desc`} label={t('modConsole.ruleIdDescription', { id: r.id })}>
          <textarea id={`rule-${r.id}-desc`} rows={2} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
        <ErrorBox error={error} />
        <div class="row">
          <button type="submit">{t('modConsole.saveRule')} {r.id}</button>
          <span role="status">{done}</span>
        </div>
      </form>
    </li>
  );
}
