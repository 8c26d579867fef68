/**
 * Alert rules, transitions and the SLO detail view's numbers (`GET /api/alerts`,
 * `GET /api/metrics/summary`, `GET /api/metrics/history`). The server's rule states are the one
 * source of truth: nothing here decides whether an alert fires, it only formats.
 */
import type { Http } from './api';

export type AlertState = 'inactive' | 'pending' | 'firing' | 'resolved';

export interface AlertRule {
  rule: string;
  slo: string;
  severity: 'page' | 'ticket' | string;
  window: string;
  windows: string[];
  state: AlertState;
  since: number;
  fired_at: number | null;
  burn_rate: number;
  burn_rate_short: number;
  threshold: number;
  samples: number;
  min_samples: number;
  for_ms: number;
  keep_firing_for_ms: number;
}

export interface AlertTransition {
  id: number;
  rule: string;
  slo: string;
  severity: string;
  from: AlertState;
  state: AlertState;
  window: string;
  burn_rate: number;
  burn_rate_short: number;
  threshold: number;
  samples: number;
  since: number;
  at: number;
}

export interface AlertsReport {
  rules: AlertRule[];
  firing: { rule: string; slo: string; severity: string; window: string; burn_rate: number; since: number }[];
  transitions: AlertTransition[];
  sloFileErrors: string[];
}

export function createAlertsApi(http: Http) {
  return {
    list: (p: { state?: string; since?: number; rule?: string; limit?: number } = {}) => {
      const s = new URLSearchParams();
      for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== '') s.set(k, String(v));
      const qs = s.toString();
      return http.get<AlertsReport>(`/api/alerts${qs ? `?${qs}` : ''}`);
    },
  };
}

export const STATE_TONE: Record<AlertState, string> = { inactive: '', pending: 'warn', firing: 'bad', resolved: 'ok' };

/** Whether a burn rule's threshold is a burn factor (`14.4×`) or a value (latency ms, ratio). */
export function isBurnRule(r: Pick<AlertRule, 'window'>): boolean {
  return r.window.includes('/');
}

/** `16.7×`, or the offending value of a threshold rule. */
export function formatBurn(v: number, rule?: Pick<AlertRule, 'window' | 'slo'>): string {
  if (!Number.isFinite(v)) return '—';
  if (rule && !isBurnRule(rule)) return rule.slo.endsWith('_ms') ? `${Math.round(v)} ms` : `${(v * 100).toFixed(2)} %`;
  return `${v.toFixed(v >= 100 ? 0 : 1)}×`;
}

/**
 * Why a rule is in its state, in words: "fires when both windows burn above 14.4×; needs 30
 * samples (has 8)" — so a card below target without an alert explains itself.
 */
export function ruleExplanation(r: AlertRule): string {
  const guard = r.samples < r.min_samples ? `; needs ${r.min_samples} samples in ${r.windows[0]} (has ${r.samples})` : '';
  const cond = isBurnRule(r)
    ? `both ${r.windows.join(' and ')} burn above ${formatBurn(r.threshold)}`
    : `the value crosses ${formatBurn(r.threshold, r)}`;
  const forText = r.for_ms > 0 ? ` for ${Math.round(r.for_ms / 60000)} min` : '';
  return `${r.state}: fires when ${cond}${forText}${guard}`;
}

/** One error-budget point: the budget left at the end of each step, from per-step good/total counts. */
export interface BudgetPoint { ts: number; remaining: number | null; }

/**
 * Error budget over time for a ratio SLO: the budget is `(1 − objective) × requests` over the range;
 * each point is the share of it left after the errors seen up to that step (clamped at 0: an
 * exhausted budget reads 0, never a negative percentage). `null` before any request.
 */
export function budgetOverTime(points: { ts: number; ok: number; error: number }[], objective: number): BudgetPoint[] {
  const total = points.reduce((n, p) => n + p.ok + p.error, 0);
  const allowed = (1 - objective) * total;
  let errors = 0;
  let seen = 0;
  return points.map((p) => {
    errors += p.error;
    seen += p.ok + p.error;
    if (seen === 0 || allowed <= 0) return { ts: p.ts, remaining: seen === 0 ? null : errors > 0 ? 0 : 1 };
    return { ts: p.ts, remaining: Math.max(0, 1 - errors / allowed) };
  });
}

/** Availability over points: ok / (ok + error), null without requests. */
export function availability(points: { ok: number; error: number }[]): number | null {
  const ok = points.reduce((n, p) => n + p.ok, 0);
  const total = points.reduce((n, p) => n + p.ok + p.error, 0);
  return total === 0 ? null : ok / total;
}
