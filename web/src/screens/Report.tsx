// Reporting: a modal dialog (the browser's own <dialog>, so focus stays in
// it, Escape closes it and the page behind is inert) that asks which of the
// operator's rules something breaks, takes a comment and, for a message,
// whether to attach the messages before it as context.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { explain } from '../errors';
import { Rule, rules, TargetType } from '../moderation';
import { linkHandler } from '../router';
import { describedBy, Field } from '../ui';
import { t } from '../i18n';

const COMMENT_LIMIT = 2000;

interface DialogProps {
  type: TargetType;
  id: string;
  /** what names the target in the title: "this post", "@bob". */
  what: string;
  onClose: () => void;
}

/** ReportDialog asks for a rule and a comment and sends the report. */
export function ReportDialog({ type, id, what, onClose }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [list, setList] = useState<Rule[] | null>(null);
  const [ruleID, setRuleID] = useState(0);
  const [comment, setComment] = useState('');
  const [context, setContext] = useState(false);
  const [busy, setBusy] = useState(false);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<{ title: string; next: string } | null>(null);
  const [sent, setSent] = useState(false);
  const base = `report-${type}-${id}`;

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    rules().then(setList, (e) => setProblem(explain(e)));
  }, []);

  useEffect(() => {
    // The first control gets focus once the rules are there; the dialog
    // itself has it before.
    if (list && !sent) ref.current?.querySelector<HTMLInputElement>('input[name="rule"]')?.focus();
  }, [list]);

  const close = () => {
    ref.current?.close();
    onClose();
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setProblem(null);
    if (!ruleID) {
      setFields({ rule_id: t('report.chooseTheRuleIt') });
      ref.current?.querySelector<HTMLInputElement>('input[name="rule"]')?.focus();
      return;
    }
    setFields({});
    setBusy(true);
    try {
      const body: Record<string, unknown> = { target_type: type, target_id: id, rule_id: ruleID, comment: comment.trim() };
      if (type === 'message') body.context = context;
      await api('POST', '/reports', body);
      setSent(true);
    } catch (err) {
      const f = err instanceof ApiError && err.code === 'invalid_request' ? err.fields() : {};
      if (Object.keys(f).length) setFields(f);
      else setProblem(reportProblem(err));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (sent) ref.current?.querySelector<HTMLButtonElement>('button.primary')?.focus();
  }, [sent]);

  const over = [...comment].length > COMMENT_LIMIT;
  const contextHint = t('report.theyAreCopiedInto');
  return (
    <dialog
      ref={ref}
      class="modal"
      aria-labelledby={`${base}-title`}
      onCancel={(e) => {
        e.preventDefault();
        close();
      }}
    >
      <h2 id={`${base}-title`}>{t('report.reportWhat', { what })}</h2>
      {sent ? (
        <>
          <p role="status">{t('report.thankYouYourReport')}</p>
          <p>
            {t('report.youCanFollowWhat')}{' '}
            <a href="/me/reports" onClick={(e) => { close(); linkHandler(e); }}>
              {t('report.myReports')}
            </a>
            .
          </p>
          <div class="row modal-actions">
            <button type="button" class="primary" onClick={close}>
              {t('report.close')}
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={submit} noValidate>
          <fieldset class="plain rules-pick" aria-describedby={fields.rule_id ? `${base}-rule-error` : undefined} aria-invalid={fields.rule_id ? true : undefined}>
            <legend>{t('report.whichOfPlazasRules')}</legend>
            {list === null && !problem && <p>{t('report.loadingTheRules')}</p>}
            {list?.map((r) => (
              <label key={r.id} class="rule-option">
                <input
                  type="radio"
                  name="rule"
                  value={String(r.id)}
                  checked={ruleID === r.id}
                  onChange={() => {
                    setRuleID(r.id);
                    setFields(({ rule_id: _, ...rest }) => rest);
                  }}
                />
                <span>
                  <strong>
                    {r.id}. {r.title}
                  </strong>
                  {r.description && <span class="muted rule-desc">{r.description}</span>}
                </span>
              </label>
            ))}
            {fields.rule_id && (
              <p class="field-error" id={`${base}-rule-error`}>
                {fields.rule_id}
              </p>
            )}
          </fieldset>
          <Field id={`${base}-comment`} label={t('report.whatIsWrongOptional')} error={fields.comment ?? (over ? t('report.atMostCommentLimit', { max: COMMENT_LIMIT }) : undefined)}>
            <textarea
              id={`${base}-comment`}
              rows={3}
              value={comment}
              onInput={(e) => setComment(e.currentTarget.value)}
              aria-invalid={fields.comment || over ? true : undefined}
              aria-describedby={describedBy(`${base}-comment`, fields.comment ?? (over ? 'over' : undefined))}
            />
          </Field>
          {type === 'message' && (
            <div class="check report-context">
              <input id={`${base}-context`} type="checkbox" checked={context} onChange={(e) => setContext(e.currentTarget.checked)} aria-describedby={`${base}-context-hint`} />
              <label for={`${base}-context`}>{t('report.includeUpTo10')}</label>
            </div>
          )}
          {type === 'message' && (
            <p class="hint" id={`${base}-context-hint`}>
              {contextHint}
            </p>
          )}
          {problem && (
            <div class="error-box" role="alert">
              <strong>{problem.title}</strong> <span>{problem.next}</span>
            </div>
          )}
          <div class="row modal-actions">
            <button type="button" onClick={close}>
              {t('report.cancel')}
            </button>
            <button type="submit" class="primary" disabled={busy || over || list === null} aria-busy={busy}>
              {busy ? t('report.sending') : t('report.sendReport')}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}

/** reportProblem words the refusals a report can meet. */
function reportProblem(err: unknown): { title: string; next: string } {
  if (err instanceof ApiError) {
    switch (err.code) {
      case 'conflict':
        return { title: t('report.youHaveAlreadyReported'), next: t('report.aModeratorWillLook') };
      case 'rate_limited':
        return { title: t('report.youHaveSentMany'), next: explain(err).next };
      case 'not_found':
        return { title: t('report.thisIsGoneOr'), next: t('report.thereIsNothingLeft') };
    }
  }
  return explain(err);
}

interface ButtonProps {
  type: TargetType;
  id: string;
  what: string;
  class?: string;
  label?: string;
}

/** ReportButton is a "Report" button that opens the dialog and gives focus back when it closes. */
export function ReportButton({ type, id, what, class: cls, label }: ButtonProps) {
  const [open, setOpen] = useState(false);
  const btn = useRef<HTMLButtonElement>(null);
  return (
    <>
      <button type="button" ref={btn} class={cls} onClick={() => setOpen(true)} aria-haspopup="dialog" aria-label={label ?? t('report.reportWhat', { what })}>
        {t('report.report')}
      </button>
      {open && (
        <ReportDialog
          type={type}
          id={id}
          what={what}
          onClose={() => {
            setOpen(false);
            btn.current?.focus();
          }}
        />
      )}
    </>
  );
}
