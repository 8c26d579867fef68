// Usage, cost and budgets: the HTTP client for /api/usage and /api/budgets, and the pure logic
// the Cost page draws from (stacked daily series by model, budget bars, the budget form patch).
import type { Http } from './api';

export interface UsageTotals {
  input: number;
  output: number;
  totalTokens: number;
  totalCost: number;
  missingCostEntries: number;
  runs: number;
  estimatedRuns: number;
}
export interface UsageDay extends UsageTotals { date: string }
export interface DayModel { date: string; model: string; tokens: number; cost: number; count: number }
export interface UsageReport {
  updatedAt: number;
  days: number;
  startDate: string;
  endDate: string;
  timeZone: string;
  daily: UsageDay[];
  totals: UsageTotals;
  byModel: (UsageTotals & { model: string; priced: boolean })[];
  byAgent: (UsageTotals & { agentId: string })[];
  topSessions: (UsageTotals & { key: string; agentId: string })[];
  dailyByModel: DayModel[];
}
export interface BudgetCap {
  cap: string;
  name: string;
  scope: 'global' | 'agent';
  agentId: string | null;
  limit: number;
  used: number | null;
  ratio: number | null;
  resetsAtMs: number | null;
  kind: 'budget' | 'runaway';
  window: 'day' | 'session' | 'run';
  exhausted: boolean;
}
export interface BudgetsReport {
  [key: string]: unknown;
  timezone: string;
  warn_ratio: number;
  agents: Record<string, Record<string, number | null>>;
  resetsAtMs: number;
  caps: BudgetCap[];
  ignored?: string[];
}

/** The flat cap keys of `[budgets]` (and of each agent), in display order. */
export const CAP_KEYS = [
  'per_run_tokens',
  'per_session_tokens',
  'daily_tokens',
  'daily_usd',
  'max_tool_calls_per_run',
  'max_tokens_per_minute',
] as const;
export type CapKey = (typeof CAP_KEYS)[number];

export const CAP_LABELS: Record<CapKey, string> = {
  per_run_tokens: 'Tokens per run',
  per_session_tokens: 'Tokens per session',
  daily_tokens: 'Tokens per day',
  daily_usd: 'USD per day',
  max_tool_calls_per_run: 'Tool calls per run (runaway guard)',
  max_tokens_per_minute: 'Tokens per minute (runaway guard)',
};

export function createCostApi(http: Http) {
  return {
    usage: (days: number) => http.get<UsageReport>(`/api/usage?days=${encodeURIComponent(String(days))}`),
    budgets: () => http.get<BudgetsReport>('/api/budgets'),
    setBudgets: (patch: Record<string, unknown>) => http.request<BudgetsReport>('PUT', '/api/budgets', patch),
    /** The CSV export (same columns as `GET /api/usage/export`). */
    exportCsv: async (days: number): Promise<string> => {
      const res = await http.get<Response>(`/api/usage/export?days=${days}&format=csv`, { raw: true });
      return res.text();
    },
  };
}
export type CostApi = ReturnType<typeof createCostApi>;

export interface StackedSeries {
  /** Day starts, seconds (UTC midnight of each date). */
  xs: number[];
  models: string[];
  /** Per model, the value of that day (0 when the model did not run). */
  values: number[][];
  /** Per model, the running sum of the models before it and itself (the stack tops). */
  tops: number[][];
}

/** Dates → stacked per-model series of `tokens` or `cost`; models ordered by their total, largest first. */
export function stackByModel(dates: string[], rows: DayModel[], field: 'tokens' | 'cost'): StackedSeries {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.model, (totals.get(r.model) ?? 0) + r[field]);
  const models = [...totals.keys()].sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || a.localeCompare(b));
  const index = new Map(dates.map((d, i) => [d, i]));
  const values = models.map(() => dates.map(() => 0));
  for (const r of rows) {
    const i = index.get(r.date);
    const m = models.indexOf(r.model);
    if (i !== undefined && m >= 0) values[m][i] += r[field];
  }
  const tops: number[][] = [];
  values.forEach((v, m) => tops.push(v.map((x, i) => x + (m > 0 ? tops[m - 1][i] : 0))));
  const xs = dates.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  return { xs, models, values, tops };
}

export interface BudgetBar {
  name: string;
  label: string;
  limitText: string;
  usedText: string;
  /** 0–100 (capped) for the bar width; null when the cap has no shared use (per run / session). */
  percent: number | null;
  level: 'ok' | 'warn' | 'bad';
  resets: string;
}

const isMoney = (cap: string) => cap === 'daily_usd';
export function formatCap(cap: string, v: number | null | undefined): string {
  if (v == null) return '—';
  return isMoney(cap) ? `$${v.toFixed(v < 1 ? 4 : 2)}` : Math.round(v).toLocaleString('en-US');
}

/** One bar per cap: use against the limit, the level at the warning ratio, and when it resets. */
export function budgetBars(caps: BudgetCap[], warnRatio = 0.8, timeZone = 'UTC'): BudgetBar[] {
  return caps.map((c) => {
    const label = `${CAP_LABELS[c.cap as CapKey] ?? c.cap}${c.agentId ? ` · agent ${c.agentId}` : ''}`;
    const ratio = c.ratio ?? null;
    const level: BudgetBar['level'] = ratio == null ? 'ok' : ratio >= 1 ? 'bad' : ratio >= warnRatio ? 'warn' : 'ok';
    const resets =
      c.resetsAtMs != null
        ? `resets ${new Date(c.resetsAtMs).toISOString().replace('T', ' ').slice(0, 16)} UTC (00:00 ${timeZone})`
        : c.window === 'session'
          ? 'per session, never resets'
          : 'per run';
    return {
      name: c.name,
      label,
      limitText: formatCap(c.cap, c.limit),
      usedText: c.used == null ? 'counted per ' + c.window : formatCap(c.cap, c.used),
      percent: ratio == null ? null : Math.min(100, Math.max(0, ratio * 100)),
      level,
      resets,
    };
  });
}

/** Form text per cap key ('' = no cap). */
export type CapForm = Record<CapKey, string>;

export function formFromBudgets(b: Pick<BudgetsReport, string> | Record<string, unknown>): CapForm {
  const f = {} as CapForm;
  for (const k of CAP_KEYS) {
    const v = (b as Record<string, unknown>)[k];
    f[k] = v == null ? '' : String(v);
  }
  return f;
}

/** The flat patch for `PUT /api/budgets` (blank → null clears the cap), or the first error. */
export function patchFromForm(f: CapForm): { patch: Record<string, number | null> } | { error: string } {
  const patch: Record<string, number | null> = {};
  for (const k of CAP_KEYS) {
    const raw = (f[k] ?? '').trim().replace(/[_,\s]/g, '');
    if (raw === '') {
      patch[k] = null;
      continue;
    }
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (!isMoney(k) && !Number.isInteger(n))) {
      return { error: `${CAP_LABELS[k]}: "${f[k]}" is not ${isMoney(k) ? 'an amount ≥ 0' : 'a whole number ≥ 0'} (leave it empty for no cap)` };
    }
    patch[k] = n;
  }
  return { patch };
}
