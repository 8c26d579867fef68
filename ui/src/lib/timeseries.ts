/**
 * Data shaping for the uPlot panels, from `GET /api/metrics/history?format=columns`
 * (`timestamps` in epoch ms at each step's start, `series` with `null` for steps without data).
 * Pure: no DOM, no uPlot, so every rule here is unit-tested.
 */

export interface ColumnsResponse {
  minutes?: number;
  step_seconds?: number;
  timestamps?: unknown[];
  series?: Record<string, unknown[] | undefined>;
}

/** One plotted line: values aligned with the panel's x (null = gap, never 0). */
export interface LineData {
  label: string;
  values: (number | null)[];
}

export interface PanelData {
  id: string;
  title: string;
  unit: string;
  /** x in epoch seconds (uPlot's time scale). */
  xs: number[];
  lines: LineData[];
  /** Index of the step still in progress (its value will grow), or null. */
  partialIndex: number | null;
  /** The newest complete step's value of the first line, and that step's start (ms). */
  headline: { value: number; atMs: number } | null;
  /** The largest value of the first line over the range (partial step included), and when. */
  peak: { value: number; atMs: number } | null;
  /** An optional target line (e.g. the p95 latency SLO). */
  threshold?: { value: number; label: string };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A series as numbers-or-null of length n (missing or malformed entries are gaps). */
export function column(res: ColumnsResponse, name: string, n: number): (number | null)[] {
  const raw = res.series?.[name];
  const out: (number | null)[] = new Array(n).fill(null);
  if (Array.isArray(raw)) for (let i = 0; i < n; i++) out[i] = num(raw[i]);
  return out;
}

/** Element-wise combination; a step is a gap when every input is a gap there. */
export function combine(cols: (number | null)[][], f: (vals: number[]) => number): (number | null)[] {
  const n = Math.max(0, ...cols.map((c) => c.length));
  const out: (number | null)[] = [];
  for (let i = 0; i < n; i++) {
    const vals = cols.map((c) => c[i]);
    out.push(vals.every((v) => v == null) ? null : f(vals.map((v) => v ?? 0)));
  }
  return out;
}

/** Counts per step → per minute (a 5-minute step of 50 requests is 10 req/min). */
export function perMinute(values: (number | null)[], stepSeconds: number): (number | null)[] {
  const k = 60 / Math.max(1, stepSeconds);
  return values.map((v) => (v == null ? null : v * k));
}

/** The step containing `nowMs`, if it is the last one (its counts are still growing). */
export function partialIndex(timestampsMs: number[], stepSeconds: number, nowMs: number): number | null {
  const last = timestampsMs.length - 1;
  if (last < 0) return null;
  return timestampsMs[last] + stepSeconds * 1000 > nowMs ? last : null;
}

/** The newest non-null value before `end` (exclusive), with its index. */
export function latestComplete(values: (number | null)[], end: number): { value: number; index: number } | null {
  for (let i = Math.min(end, values.length) - 1; i >= 0; i--) {
    const v = values[i];
    if (v != null) return { value: v, index: i };
  }
  return null;
}

/** The largest value and its index (the first one on a tie), or null without data. */
export function peakOf(values: (number | null)[]): { value: number; index: number } | null {
  let best: { value: number; index: number } | null = null;
  values.forEach((v, i) => {
    if (v != null && (best == null || v > best.value)) best = { value: v, index: i };
  });
  return best;
}

/**
 * Indices of points with no non-null neighbour: a line needs two points, so these would be
 * invisible; the chart draws them as dots.
 */
export function isolatedIndices(values: (number | null)[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] == null) continue;
    const prev = i > 0 ? values[i - 1] : null;
    const next = i < values.length - 1 ? values[i + 1] : null;
    if (prev == null && next == null) out.push(i);
  }
  return out;
}

/** Keeps the steps whose start lies in [fromMs, toMs] (for ranges ending in the past). */
export function clip(res: ColumnsResponse, fromMs: number, toMs: number): { ts: number[]; keep: number[] } {
  const all = (res.timestamps ?? []).map((t) => num(t));
  const keep: number[] = [];
  const ts: number[] = [];
  all.forEach((t, i) => {
    // A step is kept when it overlaps the range (its start may precede `from` by up to a step).
    const step = (res.step_seconds ?? 60) * 1000;
    if (t != null && t + step > fromMs && t <= toMs) {
      keep.push(i);
      ts.push(t);
    }
  });
  return { ts, keep };
}

export interface ShapeOptions {
  nowMs: number;
  fromMs?: number;
  toMs?: number;
  latencyTargetMs?: number | null;
}

/** The Metrics page's panels (agent runs, latency, active runs, HTTP, tokens). Rates are per minute whatever the step. */
export function metricsPanels(res: ColumnsResponse, opts: ShapeOptions): PanelData[] {
  const step = Math.max(60, num(res.step_seconds) ?? 60);
  const { ts, keep } = clip(res, opts.fromMs ?? -Infinity, opts.toMs ?? Infinity);
  const n = (res.timestamps ?? []).length;
  const col = (name: string) => {
    const c = column(res, name, n);
    return keep.map((i) => c[i]);
  };
  const ok = col('request_ok');
  const err = col('request_error');
  const aborted = col('request_aborted');
  const xs = ts.map((t) => t / 1000);
  const partial = partialIndex(ts, step, opts.nowMs);
  const panel = (id: string, title: string, unit: string, lines: LineData[], extra: Partial<PanelData> = {}): PanelData => {
    const first = lines[0]?.values ?? [];
    const head = latestComplete(first, partial ?? first.length);
    const peak = peakOf(first);
    return {
      id,
      title,
      unit,
      xs,
      lines,
      partialIndex: partial,
      headline: head ? { value: head.value, atMs: ts[head.index] } : null,
      peak: peak ? { value: peak.value, atMs: ts[peak.index] } : null,
      ...extra,
    };
  };
  const target = num(opts.latencyTargetMs ?? null);
  return [
    panel('requests', 'Requests', 'req/min', [
      { label: 'total', values: perMinute(combine([ok, err, aborted], (v) => v[0] + v[1] + v[2]), step) },
      { label: 'errors', values: perMinute(err, step) },
      { label: 'aborted', values: perMinute(aborted, step) },
    ]),
    panel('latency', 'End-to-end latency', 'ms', [
      { label: 'p95', values: col('p95_latency_ms') },
      { label: 'p50', values: col('p50_latency_ms') },
    ], target != null ? { threshold: { value: target, label: 'SLO' } } : {}),
    panel('active', 'Active runs', 'runs', [{ label: 'active runs', values: col('active_runs') }]),
    panel('http', 'HTTP requests', 'req/min', [
      { label: 'all', values: perMinute(col('http_requests'), step) },
      { label: '5xx', values: perMinute(col('http_5xx'), step) },
    ]),
    panel('tokens', 'LLM tokens', 'tok/min', [
      { label: 'input', values: perMinute(col('llm_input_tokens'), step) },
      { label: 'output', values: perMinute(col('llm_output_tokens'), step) },
    ]),
  ];
}

/** uPlot's AlignedData for a panel: [xs, ...lines]. */
export function alignedData(p: PanelData): [number[], ...(number | null)[][]] {
  return [p.xs, ...p.lines.map((l) => l.values)];
}

/** Axis/tooltip value text with a unit: 1234.5 → "1,234.5 ms", 0.25 → "0.25 req/min". */
export function formatValue(v: number | null | undefined, unit = ''): string {
  if (v == null || !Number.isFinite(v)) return '—';
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  const text = v.toLocaleString('en-US', { maximumFractionDigits: digits });
  return unit ? `${text} ${unit}` : text;
}

/** Short axis labels: 1500 → "1.5k", 2000000 → "2M". */
export function formatAxis(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${+(v / 1e3).toFixed(0)}k`;
  if (abs >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(abs < 1 && abs > 0 ? 2 : abs < 10 ? 1 : 0)}`;
}
