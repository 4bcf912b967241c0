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

  const show = (f: string, t: string) => {
    if (!validDay.test(f) || !validDay.test(t)) {
      setFormError('Choose both dates.');
      return;
    }
    if (f > t) {
      setFormError('The start must not be after the end.');
      return;
    }
    setFormError('');
    setFrom(f);
    setTo(t);
    setPeriod({ from: f, to: t });
    navigate(`/transparency?from=${f}&to=${t}`, true);
  };

  const year = new Date().getUTCFullYear();
  const presets: [string, string, string][] = [
    ['Last 30 days', day(daysAgo(29)), day(new Date())],
    [`${year}`, `${year}-01-01`, day(new Date())],
    [`${year - 1}`, `${year - 1}-01-01`, `${year - 1}-12-31`],
  ];
  // The report names the rules as they were titled; the published list is the fallback.
  const ruleName = (id: string) => {
    const title = report?.rules?.[id] ?? ruleList?.find((x) => String(x.id) === id)?.title;
    return title ? `${id}. ${title}` : `Rule ${id}`;
  };
  const csv = `/api/v1/transparency?from=${period.from}&to=${period.to}&format=csv`;

  return (
    <main class="page transparency">
      <h1>Transparency report</h1>
      <p class="muted">
        What was reported on Plaza, what moderators decided and how fast, how appeals went, and what authorities asked for. Every figure is counted from the
        operator’s tamper-evident audit log.
      </p>
      <form
        class="period"
        aria-label="Period"
        onSubmit={(e) => {
          e.preventDefault();
          show(from, to);
        }}
      >
        <div class="period-dates">
          <div class="field">
            <label for="tr-from">From</label>
            <input id="tr-from" type="date" value={from} max={to || undefined} onInput={(e) => setFrom(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="tr-to">To</label>
            <input id="tr-to" type="date" value={to} min={from || undefined} onInput={(e) => setTo(e.currentTarget.value)} />
          </div>
          <button type="submit" class="primary">
            Show
          </button>
        </div>
        <div class="actions" role="group" aria-label="Quick periods">
          {presets.map(([label, f, t]) => (
            <button key={label} type="button" aria-pressed={period.from === f && period.to === t} onClick={() => show(f, t)}>
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
      {!report && !error && <p aria-busy="true">Loading…</p>}
      {report && (
        <>
          <p class="period-shown" role="status">
            From {report.from} to {report.to} (UTC).{' '}
            <a href={csv} download={`plaza-transparency-${period.from}-${period.to}.csv`}>
              Download as CSV
            </a>
          </p>
          <dl class="stats" aria-label="Totals">
            <Stat label="Reports" value={report.reports.total} />
            <Stat label="Decisions" value={report.decisions.total} />
            <Stat label="Median time to decision" value={hours(report.decisions.median_hours_to_decision)} />
            <Stat label="Appeals" value={report.appeals.total} />
            <Stat label="Decisions reversed on appeal" value={report.appeals.reversed} />
            <Stat label="Authority orders" value={report.authority_orders.total} />
            <Stat label="Decided by automated means" value={report.decisions.automated ?? 0} />
          </dl>
          <div class="charts">
            <BarChart id="ch-reports-rule" title="Reports by rule" data={entries(report.reports.by_rule, ruleName)} />
            <BarChart id="ch-reports-type" title="Reports by what was reported" data={entries(report.reports.by_target_type, (k) => targetWords[k as keyof typeof targetWords] ?? k)} />
            <BarChart id="ch-decisions-action" title="Decisions by action" data={entries(report.decisions.by_action, (k) => actionWords[k as keyof typeof actionWords] ?? k)} />
            <BarChart id="ch-decisions-rule" title="Decisions by rule" data={entries(report.decisions.by_rule, ruleName)} />
            <BarChart id="ch-decisions-source" title="Decisions by source" data={entries(report.decisions.by_source, (k) => sourceShort[k] ?? k)} />
            <BarChart id="ch-appeals" title="Appeals" data={appealRows(report)} />
            <BarChart id="ch-orders-authority" title="Authority orders by authority" data={entries(report.authority_orders.by_authority, (k) => k)} />
            <BarChart id="ch-orders-outcome" title="Authority orders by outcome" data={entries(report.authority_orders.by_outcome, (k) => outcomeWords[k as keyof typeof outcomeWords] ?? k)} />
            <BarChart
              id="ch-reviews"
              title="Identity reviews and public-account applications"
              data={[
                ['Identities approved', report.identity_reviews.approved],
                ['Identities rejected', report.identity_reviews.rejected],
                ['Applications approved', report.channel_applications.approved],
                ['Applications rejected', report.channel_applications.rejected],
              ]}
            />
          </div>
        </>
      )}
    </main>
  );
}

/** appealRows splits appeals into reversed, upheld and still open. */
function appealRows(t: Transparency): [string, number][] {
  const { total, reversed } = t.appeals;
  if (t.appeals.upheld === undefined) return [['Reversed', reversed], ['Upheld or still open', Math.max(0, total - reversed)]];
  const upheld = t.appeals.upheld;
  return [['Reversed', reversed], ['Upheld', upheld], ['Still open', Math.max(0, total - reversed - upheld)]];
}

function hours(h: number | null | undefined): string {
  if (h === null || h === undefined) return '—';
  if (h * 60 < 1) return '< 1 min';
  if (h < 1) return `${Math.round(h * 60)} min`;
  return `${h.toLocaleString(undefined, { maximumFractionDigits: 1 })} h`;
}

function Stat({ label, value }: { label: string; value: number | string }) {
  return (
    <div class="stat">
      <dt>{label}</dt>
      <dd>{typeof value === 'number' ? value.toLocaleString() : value}</dd>
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
        <p class="muted">None in this period.</p>
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
                  {v.toLocaleString()}
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
            <th scope="col">Count</th>
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
