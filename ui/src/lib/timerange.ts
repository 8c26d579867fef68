/**
 * Time ranges as Grafana writes them: `from`/`to` are `now`, `now-6h` (relative, units s m h d w)
 * or an absolute instant (epoch ms, or an ISO 8601 date-time). Kept in the URL as
 * `?from=now-6h&to=now&refresh=30s`, so a link reopens the same view.
 */

export interface RangeSpec {
  from: string;
  to: string;
}
export interface ResolvedRange {
  fromMs: number;
  toMs: number;
}

export const QUICK_RANGES = [
  { label: 'Last 15 minutes', short: '15m', from: 'now-15m' },
  { label: 'Last 1 hour', short: '1h', from: 'now-1h' },
  { label: 'Last 6 hours', short: '6h', from: 'now-6h' },
  { label: 'Last 24 hours', short: '24h', from: 'now-24h' },
  { label: 'Last 7 days', short: '7d', from: 'now-7d' },
  { label: 'Last 30 days', short: '30d', from: 'now-30d' },
] as const;

export const DEFAULT_RANGE: RangeSpec = { from: 'now-1h', to: 'now' };
/** The history API keeps at most 30 days (43,200 minutes). */
export const MAX_MINUTES = 43_200;

export const REFRESH_CHOICES = [
  { id: 'off', label: 'Off', ms: 0 },
  { id: '10s', label: '10s', ms: 10_000 },
  { id: '30s', label: '30s', ms: 30_000 },
  { id: '1m', label: '1m', ms: 60_000 },
  { id: '5m', label: '5m', ms: 300_000 },
] as const;
export type RefreshId = (typeof REFRESH_CHOICES)[number]['id'];
export const DEFAULT_REFRESH: RefreshId = '30s';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RELATIVE = /^now(?:\s*-\s*(\d+)\s*([smhdw]))?$/;

/** Parses one end of a range; throws an Error naming the value and the accepted forms. */
export function parseInstant(text: string, nowMs: number): number {
  const t = text.trim();
  const rel = RELATIVE.exec(t);
  if (rel) return rel[1] ? nowMs - Number(rel[1]) * UNIT_MS[rel[2]] : nowMs;
  if (/^\d{10,}$/.test(t)) return Number(t);
  // Date-times only (a bare date or other words are too ambiguous): 2026-12-01T10:00[:00][Z|±hh:mm].
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(t)) {
    const ms = Date.parse(t.replace(' ', 'T'));
    if (Number.isFinite(ms)) return ms;
  }
  throw new Error(`"${text}" is not a time: expected now, now-<n><s|m|h|d|w> (e.g. now-6h), epoch ms, or a date-time like 2026-12-01T10:00`);
}

/** Resolves a range against `nowMs`; throws when an end is malformed or `from` is not before `to`. */
export function resolveRange(r: RangeSpec, nowMs: number): ResolvedRange {
  const fromMs = parseInstant(r.from, nowMs);
  const toMs = parseInstant(r.to, nowMs);
  if (!(fromMs < toMs)) throw new Error(`"from" (${r.from}) must be before "to" (${r.to})`);
  return { fromMs, toMs };
}

/** True when the range follows the clock (its end is `now`): auto-refresh makes sense. */
export function isLive(r: RangeSpec): boolean {
  return r.to.trim() === 'now';
}

/**
 * The history request for a range: the API counts minutes back from now, so a range ending in
 * the past asks from its start up to now and the chart shows only [from, to]. `limit` bounds
 * the points; the server picks the step (the smallest standard step that fits).
 */
export function historyQuery(r: ResolvedRange, nowMs: number, limit = 720): { minutes: number; limit: number } {
  const minutes = Math.min(MAX_MINUTES, Math.max(1, Math.ceil((nowMs - r.fromMs) / 60_000)));
  const spanMinutes = Math.max(1, Math.ceil((r.toMs - r.fromMs) / 60_000));
  // Points over the whole request scale with minutes/span, so the visible part still gets ~limit.
  const scaled = Math.ceil((limit * minutes) / spanMinutes);
  return { minutes, limit: Math.min(MAX_MINUTES, Math.max(1, scaled)) };
}

/** A short description: "Last 6 hours", "now-90m to now", or two local date-times. */
export function describeRange(r: RangeSpec, fmt: (ms: number) => string = (ms) => new Date(ms).toLocaleString()): string {
  const quick = QUICK_RANGES.find((q) => q.from === r.from.trim());
  if (quick && r.to.trim() === 'now') return quick.label;
  const side = (s: string) => (RELATIVE.test(s.trim()) ? s.trim() : /^\d{10,}$/.test(s.trim()) ? fmt(Number(s)) : s.trim());
  return `${side(r.from)} to ${side(r.to)}`;
}

/** Reads the range and refresh from URL params; bad values fall back to the defaults (with the reason). */
export function rangeFromParams(params: Record<string, string | undefined>, nowMs: number): {
  range: RangeSpec;
  refresh: RefreshId;
  error: string;
} {
  const range: RangeSpec = { from: params.from?.trim() || DEFAULT_RANGE.from, to: params.to?.trim() || DEFAULT_RANGE.to };
  let error = '';
  try {
    resolveRange(range, nowMs);
  } catch (e) {
    error = `${e instanceof Error ? e.message : String(e)}; showing the last hour`;
    range.from = DEFAULT_RANGE.from;
    range.to = DEFAULT_RANGE.to;
  }
  const refresh = REFRESH_CHOICES.some((c) => c.id === params.refresh) ? (params.refresh as RefreshId) : DEFAULT_REFRESH;
  return { range, refresh, error };
}

/** URL params for a range and refresh; defaults are left out so plain links stay short. */
export function rangeToParams(range: RangeSpec, refresh: RefreshId): Record<string, string | undefined> {
  const isDefault = range.from === DEFAULT_RANGE.from && range.to === DEFAULT_RANGE.to;
  return {
    from: isDefault ? undefined : range.from,
    to: isDefault ? undefined : range.to,
    refresh: refresh === DEFAULT_REFRESH ? undefined : refresh,
  };
}

/** An absolute range (epoch ms) from a zoom selection, rounded to whole seconds. */
export function absoluteRange(fromMs: number, toMs: number): RangeSpec {
  return { from: String(Math.floor(fromMs / 1000) * 1000), to: String(Math.ceil(toMs / 1000) * 1000) };
}

export function refreshMs(id: RefreshId): number {
  return REFRESH_CHOICES.find((c) => c.id === id)?.ms ?? 0;
}
