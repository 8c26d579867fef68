/** Per-route and per-method tables from `GET /api/metrics` (counts since the gateway started). */

export interface RouteRow {
  route: string;
  total: number;
  ok: number;
  clientErrors: number;
  serverErrors: number;
  /** 5xx share of all answers (0 when there were none). */
  errorRatio: number;
}
export interface MethodRow {
  method: string;
  total: number;
  ok: number;
  error: number;
  errorRatio: number;
}

const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** `http_requests_by_route: {route: {"1xx".."5xx": n}}` → rows, busiest first. */
export function routeRows(metrics: Record<string, any> | null | undefined): RouteRow[] {
  const by = metrics?.http_requests_by_route;
  if (!by || typeof by !== 'object') return [];
  return Object.entries(by as Record<string, Record<string, unknown>>)
    .map(([route, c]) => {
      const ok = n(c?.['1xx']) + n(c?.['2xx']) + n(c?.['3xx']);
      const clientErrors = n(c?.['4xx']);
      const serverErrors = n(c?.['5xx']);
      const total = ok + clientErrors + serverErrors;
      return { route, total, ok, clientErrors, serverErrors, errorRatio: total ? serverErrors / total : 0 };
    })
    .filter((r) => r.total > 0)
    .sort((a, b) => b.total - a.total || a.route.localeCompare(b.route));
}

/** `bridge_requests_by_method: {method: {ok, error}}` → rows, busiest first. */
export function methodRows(metrics: Record<string, any> | null | undefined): MethodRow[] {
  const by = metrics?.bridge_requests_by_method;
  if (!by || typeof by !== 'object') return [];
  return Object.entries(by as Record<string, Record<string, unknown>>)
    .map(([method, c]) => {
      const ok = n(c?.ok);
      const error = n(c?.error);
      const total = ok + error;
      return { method, total, ok, error, errorRatio: total ? error / total : 0 };
    })
    .filter((r) => r.total > 0)
    .sort((a, b) => b.total - a.total || a.method.localeCompare(b.method));
}
