/** SLO cards from `GET /api/metrics/summary`. */
export type BurnState = 'ok' | 'at-risk' | 'burning' | 'no-data';

export interface SloCard {
  id: string;
  title: string;
  value: number | null;
  target: number | null;
  burnAlert: number | null;
  unit: 'ratio' | 'ms';
  samples: number;
  budgetLeft: number | null;
  state: BurnState;
  alertSeverity?: string;
  /** The server's worst rule state for this SLO (inactive | pending | firing | resolved). */
  alertState: string;
  /** The SLO's objective (ratio of good events), from the SLO file. */
  objective: number | null;
  /** Share of the error budget used (above 1 when overspent), null without samples. */
  budgetUsed: number | null;
  /** The budget period in days (the SLO's window). */
  budgetDays: number;
  /** The summary has an error budget for this SLO (shown as "no data" when it cannot be computed). */
  hasBudget: boolean;
}

const TITLES: Record<string, string> = {
  request_success_rate: 'Request success rate',
  e2e_latency_p95_ms: 'p95 end-to-end latency',
  tool_reliability: 'Tool reliability',
  scheduler_recoverability_7d: 'Scheduler recoverability (7d)',
};

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function sloCards(summary: any): SloCard[] {
  const slo = summary?.slo ?? {};
  const alerts: any[] = Array.isArray(summary?.alerts) ? summary.alerts : [];
  const budgets = summary?.error_budget ?? {};
  return Object.keys(slo).map((id) => {
    const s = slo[id] ?? {};
    const unit: 'ratio' | 'ms' = id.endsWith('_ms') ? 'ms' : 'ratio';
    const samples =
      num(s.sample_size) ??
      (num(s.success) != null || num(s.error) != null ? (num(s.success) ?? 0) + (num(s.error) ?? 0) : null) ??
      num(s.runs_7d) ??
      0;
    const value = num(s.value);
    const target = num(s.target);
    const burnAlert = num(s.burn_alert);
    const alert = alerts.find((a) => a?.slo === id);
    // One source of truth: the server's state. `burning` only while one of the SLO's alert rules
    // fires (the same rules as the summary's `alerts` and the Alerts page); below target without
    // a firing rule is `at-risk` and says so ("no alert yet").
    let state: BurnState;
    if (s.state === 'burning') state = 'burning';
    else if (samples === 0 || value == null || s.state === 'no_data') state = 'no-data';
    else if (s.below_objective === true || (s.below_objective == null && value != null && target != null && (unit === 'ms' ? value > target : value < target))) state = 'at-risk';
    else state = 'ok';
    return {
      id,
      title: TITLES[id] ?? id,
      value,
      target,
      burnAlert,
      unit,
      samples,
      budgetLeft: budgetLeft(budgets?.[id], state),
      state,
      alertSeverity: state === 'burning' ? alert?.severity : undefined,
      alertState: typeof s.alert_state === 'string' ? s.alert_state : state === 'burning' ? 'firing' : 'inactive',
      objective: num(s.objective),
      budgetUsed: state === 'no-data' ? null : num(budgets?.[id]?.consumed_ratio),
      budgetDays: num(budgets?.[id]?.period_days) ?? 28,
      hasBudget: budgets?.[id] != null,
    };
  });
}

/** Error budget left as a ratio, or null ("no data") when the budget window had no samples. */
export function budgetLeft(budget: any, state: BurnState): number | null {
  if (!budget || state === 'no-data' || budget.state === 'no_data') return null;
  const samples = num(budget.sample_size) ?? num(budget.total);
  if (samples === 0) return null;
  return num(budget.remaining_ratio);
}

/** Budget left clamped to 0..1: what the bar shows (an overspent budget is an empty bar). */
export function budgetBar(c: Pick<SloCard, 'budgetLeft'>): number {
  return c.budgetLeft == null ? 0 : Math.max(0, Math.min(1, c.budgetLeft));
}

/**
 * Budget text agreeing with the bar: "40.0 % left", "exhausted (270 % used)" — never a negative
 * "left" — or "no data".
 */
export function budgetText(c: Pick<SloCard, 'budgetLeft'> & Partial<Pick<SloCard, 'budgetUsed'>>): string {
  if (c.budgetLeft == null) return 'no data';
  if (c.budgetLeft <= 0) {
    const used = c.budgetUsed != null && Number.isFinite(c.budgetUsed) ? ` (${Math.round(c.budgetUsed * 100)} % used)` : '';
    return `exhausted${used}`;
  }
  return `${(c.budgetLeft * 100).toFixed(1)} % left`;
}

/** The card's state in words; below target without a firing rule says there is no alert (yet). */
export function stateText(c: Pick<SloCard, 'state' | 'alertState' | 'alertSeverity'>): string {
  switch (c.state) {
    case 'burning': return `alert firing${c.alertSeverity ? ` (${c.alertSeverity})` : ''}`;
    case 'at-risk': return c.alertState === 'pending' ? 'below target · alert pending' : 'below target · no alert';
    case 'no-data': return 'no data';
    default: return c.alertState === 'pending' ? 'healthy · alert pending' : 'healthy';
  }
}

/** Per-step request counts of a history `columns` response (gaps count as 0). */
export function requestPoints(columns: any): { ts: number; ok: number; error: number }[] {
  const ts: unknown[] = Array.isArray(columns?.timestamps) ? columns.timestamps : [];
  const ok: unknown[] = columns?.series?.request_ok ?? [];
  const err: unknown[] = columns?.series?.request_error ?? [];
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return ts.map((t, i) => ({ ts: n(t), ok: n(ok[i]), error: n(err[i]) }));
}

/**
 * The request success over the chosen time range (the cards' rolling value is the SLO window;
 * this line follows the range picker): `{value, samples}`, value null without requests.
 */
export function rangeSuccess(columns: any, fromMs?: number, toMs?: number): { value: number | null; samples: number } {
  const pts = requestPoints(columns).filter((p) => (fromMs == null || p.ts >= fromMs - 60_000) && (toMs == null || p.ts <= toMs));
  const ok = pts.reduce((a, p) => a + p.ok, 0);
  const total = pts.reduce((a, p) => a + p.ok + p.error, 0);
  return { value: total === 0 ? null : ok / total, samples: total };
}
