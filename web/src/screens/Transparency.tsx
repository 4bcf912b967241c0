// The public transparency report: for a period (kept in the address, so
// it can be shared), what was reported, what moderators decided and how
// fast, how appeals went, what authorities asked for and what the operator
// did, as inline SVG bar charts with the same figures in tables for screen
// readers, and the CSV the server computes.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { actionWords, Counts, outcomeWords, Rule, rules, sourceShort, targetWords, Transparency } from '../moderation';
import { navigate } from '../router';
import { ErrorBox } from '../ui';
import { formatNumber, lang, t } from '../i18n';

/** day formats a date as YYYY-MM-DD in UTC, as the server counts days. */
function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function daysAgo(n: number): Date {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - n);
  return d;
}

const validDay = /^\d{4}-\d{2}-\d{2}$/;

function periodFromURL(): { from: string; to: string } {
  const q = new URLSearchParams(location.search);
  const from = q.get('from') ?? '';
  const to = q.get('to') ?? '';
  if (validDay.test(from) && validDay.test(to)) return { from, to };
  return { from: day(daysAgo(29)), to: day(new Date()) };
}

/** TransparencyPage is reachable signed in or out. */
export function TransparencyPage() {
  const [period, setPeriod] = useState(periodFromURL);
  const [from, setFrom] = useState(period.from);
  const [to, setTo] = useState(period.to);
  const [report, setReport] = useState<Transparency | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [formError, setFormError] = useState('');
  const [ruleList, setRuleList] = useState<Rule[] | null>(null);

  useEffect(() => {
    rules().then(setRuleList, () => {});
  }, []);

  useEffect(() => {
    let live = true;
    setReport(null);
    setError(null);
    api<Transparency>('GET', `/transparency?from=${period.from}&to=${period.to}`).then(
      (r) => live && setReport(r),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [period.from, period.to]);

  const show = (f: string, to: string) => {
    if (!validDay.test(f) || !validDay.test(to)) {
      setFormError(t('transparency.chooseBothDates'));
      return;
    }
    if (f > to) {
      setFormError(t('transparency.theStartMustNot'));
      return;
    }
    setFormError('');
    setFrom(f);
    setTo(to);
    setPeriod({ from: f, to });
    navigate(`/transparency?from=${f}&to=${to}`, true);
  };

  const year = new Date().getUTCFullYear();
  const presets: [string, string, string][] = [
    [t('transparency.last30Days'), day(daysAgo(29)), day(new Date())],
    [`${year}`, `${year}-01-01`, day(new Date())],
    [`${year - 1}`, `${year - 1}-01-01`, `${year - 1}-12-31`],
  ];
  // The report names the rules as they were titled; the published list is the fallback.
  const ruleName = (id: string) => {
    const title = report?.rules?.[id] ?? ruleList?.find((x) => String(x.id) === id)?.title;
    return title ? `${id}. ${title}` : t('moderation.rule', { id });
  };
  const csv = `/api/v1/transparency?from=${period.from}&to=${period.to}&format=csv`;

  return (
    <main class="page transparency">
      <h1>{t('transparency.transparencyReport')}</h1>
      <p class="muted">
        {t('transparency.whatWasReportedOn')}
      </p>
      <form
        class="period"
        aria-label={t('transparency.period')}
        onSubmit={(e) => {
          e.preventDefault();
          show(from, to);
        }}
      >
        <div class="period-dates">
          <div class="field">
            <label for="tr-from">{t('transparency.from')}</label>
            <input id="tr-from" type="date" value={from} max={to || undefined} onInput={(e) => setFrom(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="tr-to">{t('transparency.to')}</label>
            <input id="tr-to" type="date" value={to} min={from || undefined} onInput={(e) => setTo(e.currentTarget.value)} />
          </div>
          <button type="submit" class="primary">
            {t('transparency.show')}
          </button>
        </div>
        <div class="actions" role="group" aria-label={t('transparency.quickPeriods')}>
          {presets.map(([label, f, to]) => (
            <button key={label} type="button" aria-pressed={period.from === f && period.to === to} onClick={() => show(f, to)}>
              {label}
            </button>
          ))}
        </div>
        {formError && (
          <p class="field-error" role="alert">
            {formError}
          </p>
        )}
      </form>
      <ErrorBox error={error} />
      {!report && !error && <p aria-busy="true">{t('transparency.loading')}</p>}
      {report && (
        <>
          <p class="period-shown" role="status">
            {t('transparency.from')} {report.from} {t('transparency.to2')} {report.to} {t('transparency.utc')}{' '}
            <a href={csv} download={`plaza-transparency-${period.from}-${period.to}.csv`}>
              {t('transparency.downloadAsCsv')}
            </a>
          </p>
          <dl class="stats" aria-label={t('transparency.totals')}>
            <Stat label={t('transparency.reports')} value={report.reports.total} />
            <Stat label={t('transparency.decisions')} value={report.decisions.total} />
            <Stat label={t('transparency.medianTimeToDecision')} value={hours(report.decisions.median_hours_to_decision)} />
            <Stat label={t('transparency.appeals')} value={report.appeals.total} />
            <Stat label={t('transparency.decisionsReversedOnAppeal')} value={report.appeals.reversed} />
            <Stat label={t('transparency.authorityOrders')} value={report.authority_orders.total} />
            <Stat label={t('transparency.decidedByAutomatedMeans')} value={report.decisions.automated ?? 0} />
          </dl>
          <div class="charts">
            <BarChart id="ch-reports-rule" title={t('transparency.reportsByRule')} data={entries(report.reports.by_rule, ruleName)} />
            <BarChart id="ch-reports-type" title={t('transparency.reportsByWhatWas')} data={entries(report.reports.by_target_type, (k) => targetWords[k as keyof typeof targetWords] ?? k)} />
            <BarChart id="ch-decisions-action" title={t('transparency.decisionsByAction')} data={entries(report.decisions.by_action, (k) => actionWords[k as keyof typeof actionWords] ?? k)} />
            <BarChart id="ch-decisions-rule" title={t('transparency.decisionsByRule')} data={entries(report.decisions.by_rule, ruleName)} />
            <BarChart id="ch-decisions-source" title={t('transparency.decisionsBySource')} data={entries(report.decisions.by_source, (k) => sourceShort[k] ?? k)} />
            <BarChart id="ch-appeals" title={t('transparency.appeals')} data={appealRows(report)} />
            <BarChart id="ch-orders-authority" title={t('transparency.authorityOrdersByAuthority')} data={entries(report.authority_orders.by_authority, (k) => k)} />
            <BarChart id="ch-orders-outcome" title={t('transparency.authorityOrdersByOutcome')} data={entries(report.authority_orders.by_outcome, (k) => outcomeWords[k as keyof typeof outcomeWords] ?? k)} />
            <BarChart
              id="ch-reviews"
              title={t('transparency.identityReviewsAndPublic')}
              data={[
                [t('transparency.identitiesApproved'), report.identity_reviews.approved],
                [t('transparency.identitiesRejected'), report.identity_reviews.rejected],
                [t('transparency.applicationsApproved'), report.channel_applications.approved],
                [t('transparency.applicationsRejected'), report.channel_applications.rejected],
              ]}
            />
          </div>
        </>
      )}
    </main>
  );
}

/** appealRows splits appeals into reversed, upheld and still open. */
function appealRows(tr: Transparency): [string, number][] {
  const { total, reversed } = tr.appeals;
  if (tr.appeals.upheld === undefined) return [[t('transparency.reversed'), reversed], [t('transparency.upheldOrStillOpen'), Math.max(0, total - reversed)]];
  const upheld = tr.appeals.upheld;
  return [[t('transparency.reversed'), reversed], [t('transparency.upheld'), upheld], [t('transparency.stillOpen'), Math.max(0, total - reversed - upheld)]];
}

function hours(h: number | null | undefined): string {
  if (h === null || h === undefined) return '—';
  if (h * 60 < 1) return t('transparency.underAMinute');
  if (h < 1) return t('transparency.minutes', { minutes: Math.round(h * 60) });
  return t('transparency.hours', { hours: new Intl.NumberFormat(lang(), { maximumFractionDigits: 1 }).format(h) });
}

function Stat({ label, value }: { label: string; value: number | string }) {
  return (
    <div class="stat">
      <dt>{label}</dt>
      <dd>{typeof value === 'number' ? formatNumber(value) : value}</dd>
    </div>
  );
}

/** entries turns a count map into labelled rows, largest first. */
function entries(c: Counts | null | undefined, name: (k: string) => string): [string, number][] {
  return Object.entries(c ?? {})
    .map(([k, v]) => [name(k), v] as [string, number])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

const ROW = 38;
const WIDTH = 320;

/**
 * BarChart draws horizontal bars as inline SVG (no chart library): each
 * row's label above its bar and the count at its end. The same figures are
 * in a table that screen readers read instead of the picture.
 */
export function BarChart({ id, title, data }: { id: string; title: string; data: [string, number][] }) {
  const max = Math.max(1, ...data.map((d) => d[1]));
  const height = Math.max(1, data.length) * ROW;
  const summary = data.length === 0 ? 'none' : data.map(([k, v]) => `${k}: ${v}`).join(', ');
  return (
    <figure class="chart" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`}>{title}</figcaption>
      {data.length === 0 ? (
        <p class="muted">{t('transparency.noneInThisPeriod')}</p>
      ) : (
        <svg viewBox={`0 0 ${WIDTH} ${height}`} width="100%" aria-hidden="true" data-summary={summary} preserveAspectRatio="xMinYMin meet">
          {data.map(([label, v], i) => {
            const w = v > 0 ? Math.max(2, Math.round(((WIDTH - 48) * v) / max)) : 0;
            const y = i * ROW;
            return (
              <g key={label}>
                <text x="0" y={y + 13} class="chart-label">
                  {label}
                </text>
                <rect x="0" y={y + 18} width={w} height="14" rx="3" class="chart-bar" />
                <text x={w + 6} y={y + 30} class="chart-value">
                  {formatNumber(v)}
                </text>
              </g>
            );
          })}
        </svg>
      )}
      <table class="visually-hidden" aria-label={title}>
        <thead>
          <tr>
            <th scope="col">{title}</th>
            <th scope="col">{t('transparency.count')}</th>
          </tr>
        </thead>
        <tbody>
          {data.map(([label, v]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
