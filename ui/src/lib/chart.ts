/** Pure geometry for the history charts (drawn as SVG by LineChart.svelte). */
export type Point = Record<string, number | null | undefined>;

export const RANGES = [
  { id: '1h', label: '1h', minutes: 60, step: 60 },
  { id: '6h', label: '6h', minutes: 360, step: 300 },
  { id: '24h', label: '24h', minutes: 1440, step: 900 },
  { id: '7d', label: '7d', minutes: 10080, step: 3600 },
  { id: '30d', label: '30d', minutes: 43200, step: 14400 },
] as const;
export type RangeId = (typeof RANGES)[number]['id'];

/** The first finite numeric field among `names` (the server's names, plus tolerated aliases). */
export function field(p: Point, ...names: string[]): number | null {
  for (const n of names) {
    const v = p[n];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

export interface Series {
  /** x = epoch ms, y = value (null = gap). */
  xs: number[];
  ys: (number | null)[];
}

/** The four charts' series from history points. Rates are per minute. */
export function seriesFrom(points: Point[], stepSeconds: number) {
  const xs = points.map((p) => field(p, 'timestamp_ms') ?? 0);
  const step = Math.max(1, stepSeconds);
  const perMin = (n: number) => (n * 60) / step;
  const ok = points.map((p) => field(p, 'request_ok') ?? 0);
  const err = points.map((p) => field(p, 'request_error') ?? 0);
  return {
    requests: { xs, ys: ok.map((v, i) => perMin(v + err[i])) },
    errors: { xs, ys: err.map(perMin) },
    p95: {
      xs,
      ys: points.map((p, i) => (ok[i] + err[i] > 0 ? field(p, 'p95_latency_ms', 'latency_p95_ms', 'request_latency_p95_ms') : null)),
    },
    activeRuns: { xs, ys: points.map((p) => field(p, 'active_runs')) },
  };
}

export interface Geometry {
  path: string;
  yMax: number;
  thresholdY: number | null;
  hasData: boolean;
}

/** Maps a series into an SVG path within width×height (y axis from 0 to a rounded max). */
export function chartGeometry(s: Series, width: number, height: number, threshold?: number): Geometry {
  const finite = s.ys.filter((v): v is number => v != null && Number.isFinite(v));
  const hasData = finite.length > 0;
  const rawMax = Math.max(threshold ?? 0, ...finite, 0);
  const yMax = niceCeil(rawMax === 0 ? 1 : rawMax * 1.1);
  const xMin = s.xs.length ? Math.min(...s.xs) : 0;
  const xMax = s.xs.length ? Math.max(...s.xs) : 1;
  const xSpan = xMax - xMin || 1;
  const x = (v: number) => ((v - xMin) / xSpan) * width;
  const y = (v: number) => height - (v / yMax) * height;
  let path = '';
  let pen = false;
  s.ys.forEach((v, i) => {
    if (v == null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    path += `${pen ? 'L' : 'M'}${x(s.xs[i]).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  return { path, yMax, thresholdY: threshold != null ? y(threshold) : null, hasData };
}

/** 1, 2, 2.5, 5 × 10^n at or above v. */
export function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const exp = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}
