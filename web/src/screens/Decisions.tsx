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
    <nav class="tabs mb-nav" aria-label="Moderation">
      {link('/me/reports', 'My reports', at === 'reports')}
      {link('/me/decisions', 'Decisions about you', at === 'decisions')}
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
      <h1>My reports</h1>
      <p class="muted">What you reported, and what the moderators decided.</p>
      <ErrorBox error={error} />
      {items === null ? (
        !error && <p>Loading…</p>
      ) : items.length === 0 ? (
        <p class="empty">You have not reported anything.</p>
      ) : (
        <ul class="cards" aria-label="My reports">
          {items.map((r) => (
            <ReportRow key={r.id} r={r} list={list} />
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" onClick={() => load(cursor)}>
          Load more
        </button>
      )}
    </main>
  );
}

function ReportRow({ r, list }: { r: MyReport; list: Rule[] | null }) {
  const path = targetPath(r.target_type, r.target_id);
  const what = targetWords[r.target_type] ?? r.target_type;
  let state: string;
  if (r.status === 'open' || !r.outcome) state = 'Open: waiting for a moderator';
  else if (r.outcome.reversed) state = `Decided: ${actionWords[r.outcome.action] ?? r.outcome.action}, later reversed on appeal`;
  else state = `Decided: ${actionWords[r.outcome.action] ?? r.outcome.action}`;
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
        <span class={r.status === 'open' ? 'pill open' : 'pill decided'}>{r.status === 'open' ? 'Open' : 'Decided'}</span>
      </div>
      <div class="muted">
        {ruleTitle(list, r.rule_id)} · reported {longDate(r.created_at)}
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
      <h1>Decisions about you</h1>
      <p class="muted">Each decision a moderator takes about your account or what you posted comes with its reasons, and you can appeal it.</p>
      <ErrorBox error={error} />
      {items === null ? !error && <p>Loading…</p> : <DecisionRows items={items} />}
    </main>
  );
}

/** DecisionRows is the list of statements, each linked to its page. */
export function DecisionRows({ items }: { items: Statement[] }) {
  if (items.length === 0) return <p class="empty">No moderator has decided anything about you.</p>;
  return (
    <ul class="cards" aria-label="Decisions">
      {items.map((s) => (
        <li key={s.id} class="card">
          <a href={`/me/decisions/${s.id}`} onClick={linkHandler} class="decision-link">
            <strong>
              {actionWords[s.action] ?? s.action}: {targetWords[s.target_type] ?? s.target_type}
            </strong>
          </a>
          <div class="muted">
            {longDate(s.created_at)} · {s.rule ? `Rule ${s.rule.id}: ${s.rule.title}` : ''}
          </div>
          <div>
            {s.status === 'reversed'
              ? 'Reversed'
              : s.appeal
                ? s.appeal.status === 'open'
                  ? 'Appeal waiting for a decision'
                  : s.appeal.outcome === 'upheld'
                    ? 'Appeal decided: upheld'
                    : 'Appeal decided: reversed'
                : 'In force'}
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
        ← Decisions about you
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
        Statement of reasons: {actionWords[s.action] ?? s.action}
      </H>
      <p class="muted">
        Decision {s.id} · {longDate(s.created_at)} · {what}
      </p>
      {reversed && (
        <p class="mod-note reversed" role="status">
          <strong>This decision was reversed.</strong> It no longer applies: what it did has been undone.
        </p>
      )}

      <section aria-labelledby={`st-${s.id}-what`}>
        <Sub id={`st-${s.id}-what`}>What was decided</Sub>
        <p>{whatHappened(s)}</p>
        <p class="muted">
          {s.action === 'suspend' && s.ends_at
            ? `Duration: until ${longDate(s.ends_at)}.`
            : s.action === 'dismiss'
              ? 'Nothing changes.'
              : 'Duration: until it is reversed, on appeal or otherwise.'}
        </p>
      </section>

      <section aria-labelledby={`st-${s.id}-why`}>
        <Sub id={`st-${s.id}-why`}>Facts and reasons</Sub>
        <p class="statement-reason" lang={textLang(s.reason)}>
          {s.reason || 'The moderator gave no further reasons.'}
        </p>
      </section>

      <section aria-labelledby={`st-${s.id}-how`}>
        <Sub id={`st-${s.id}-how`}>How it came about</Sub>
        <p>{sourceWords[s.source] ?? s.source}</p>
        <p>
          {s.automated
            ? 'Automated means were used in detecting or deciding this.'
            : 'No automated means were used: a person found and decided this.'}
        </p>
      </section>

      <section aria-labelledby={`st-${s.id}-ground`}>
        <Sub id={`st-${s.id}-ground`}>Ground</Sub>
        {s.ground === 'law' ? (
          <p>
            The law{s.legal_basis ? `: ${s.legal_basis}` : ''}.
            {s.rule && ` Plaza’s rule ${s.rule.id} (${s.rule.title}) applies too.`}
          </p>
        ) : (
          <p>
            Plaza’s terms, rule {s.rule?.id}: <strong>{s.rule?.title}</strong>.
          </p>
        )}
      </section>

      <section aria-labelledby={`st-${s.id}-content`}>
        <Sub id={`st-${s.id}-content`}>The content concerned</Sub>
        <SnapshotView snap={s.content} type={s.target_type} />
      </section>

      <section aria-labelledby={`st-${s.id}-appeal`}>
        <Sub id={`st-${s.id}-appeal`}>How to appeal</Sub>
        <AppealBox s={s} onChange={onChange} />
        <p class="muted small">
          You may also take the matter to a court, or to an out-of-court dispute settlement body where one is available to you. Appealing here does not stop you.
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
      setFieldError('Say why you think the decision is wrong.');
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
            <strong>Your appeal is waiting for a decision.</strong> A moderator other than the one who took this decision will review it, and you will see the outcome here.
          </p>
        ) : (
          <>
            <p>
              <strong>{a.outcome === 'reversed' ? 'Your appeal succeeded: the decision was reversed.' : 'Your appeal was decided: the decision stands.'}</strong>
            </p>
            {a.reason && (
              <p lang={textLang(a.reason)}>
                <span class="muted">Reason: </span>
                {a.reason}
              </p>
            )}
          </>
        )}
      </div>
    );
  }
  if (s.status === 'reversed') return <p>There is nothing to appeal: the decision was reversed.</p>;
  if (!open) {
    return (
      <p>
        The time to appeal ended{deadline ? ` on ${longDate(s.appeal_deadline)}` : ''}. {error ? explain(error).title : ''}
      </p>
    );
  }
  return (
    <>
      <p>
        You can appeal until <strong>{longDate(s.appeal_deadline)}</strong>. A different moderator reviews your appeal; if they reverse the decision, everything it did is undone.
      </p>
      <form onSubmit={send} class="appeal-form">
        <Field id={fid} label="Why the decision is wrong" error={fieldError}>
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
          {busy ? 'Sending…' : 'Appeal'}
        </button>
      </form>
    </>
  );
}

/** SnapshotView shows content as it was when reported or decided, even if it changed or was deleted since. */
export function SnapshotView({ snap, type }: { snap: Snapshot | null; type: string }) {
  if (!snap) return <p class="muted">The content was not kept.</p>;
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
      {media > 0 && <p class="muted">{media === 1 ? 'With 1 attachment.' : `With ${media} attachments.`}</p>}
      <figcaption class="muted">
        {targetWords[type as keyof typeof targetWords] ?? type}
        {snap.created_at ? `, created ${longDate(snap.created_at)}` : ''}; as it was when reported or decided.
      </figcaption>
    </figure>
  );
}
