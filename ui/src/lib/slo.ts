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
    let state: BurnState;
    // The server says no_data (value null) when the window had no samples: never shown as healthy.
    if (samples === 0 || value == null || s.state === 'no_data') state = 'no-data';
    else if (alert) state = 'burning';
    else if (value != null && target != null && (unit === 'ms' ? value > target : value < target)) state = 'at-risk';
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
      alertSeverity: alert?.severity,
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

/** Budget text: "40.0 % left", "exhausted (−250.0 %)", or "no data". */
export function budgetText(c: SloCard): string {
  if (c.budgetLeft == null) return 'no data';
  if (c.budgetLeft <= 0) return `exhausted (${(c.budgetLeft * 100).toFixed(1).replace('-', '−')} %)`;
  return `${(c.budgetLeft * 100).toFixed(1)} % left`;
}
