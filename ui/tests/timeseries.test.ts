import { describe, expect, it } from 'vitest';
import {
  alignedData, clip, combine, formatAxis, formatValue, isolatedIndices, latestComplete, metricsPanels, partialIndex, peakOf, perMinute,
} from '../src/lib/timeseries';

const MIN = 60_000;
// Five one-minute steps: data, a gap, data, a lone point after a gap, and the minute in progress.
const t0 = 1_764_583_200_000; // a whole minute
const res = {
  minutes: 5,
  step_seconds: 60,
  timestamps: [t0, t0 + MIN, t0 + 2 * MIN, t0 + 3 * MIN, t0 + 4 * MIN],
  series: {
    request_ok: [10, null, 4, null, 1],
    request_error: [2, null, 0, null, 0],
    request_aborted: [0, null, 0, null, 0],
    p95_latency_ms: [300, null, null, null, 120],
    p50_latency_ms: [100, null, null, null, 80],
    active_runs: [1, null, 0, 2, 5],
    llm_input_tokens: [0, null, 0, null, 0],
    llm_output_tokens: [0, null, 0, null, 0],
  },
};

describe('chart data shaping', () => {
  it('keeps gaps as null (never 0) and adds series element-wise', () => {
    expect(combine([[1, null, 3], [2, null, null]], (v) => v[0] + v[1])).toEqual([3, null, 3]);
    expect(perMinute([50, null, 0], 300)).toEqual([10, null, 0]);
  });
  it('marks the step in progress and takes the headline from the newest complete one', () => {
    const now = t0 + 4 * MIN + 20_000; // 20 s into the last minute
    expect(partialIndex(res.timestamps, 60, now)).toBe(4);
    expect(partialIndex(res.timestamps, 60, t0 + 5 * MIN)).toBeNull();
    const [requests, latency, active] = metricsPanels(res, { nowMs: now });
    expect(requests.partialIndex).toBe(4);
    expect(requests.lines[0].values).toEqual([12, null, 4, null, 1]);
    expect(requests.lines[1].values).toEqual([2, null, 0, null, 0]);
    // Not 1 (the unfinished minute) but the last complete minute with data.
    expect(requests.headline).toEqual({ value: 4, atMs: t0 + 2 * MIN });
    expect(latency.lines.map((l) => l.label)).toEqual(['p95', 'p50']);
    expect(latency.headline).toEqual({ value: 300, atMs: t0 });
    expect(active.headline).toEqual({ value: 2, atMs: t0 + 3 * MIN });
  });
  it('labels the peak of the data, not the axis top', () => {
    const [requests, , active] = metricsPanels(res, { nowMs: t0 + 10 * MIN });
    expect(requests.peak).toEqual({ value: 12, atMs: t0 });
    expect(active.peak).toEqual({ value: 5, atMs: t0 + 4 * MIN });
    expect(peakOf([null, null])).toBeNull();
    expect(peakOf([3, 7, 7])).toEqual({ value: 7, index: 1 });
  });
  it('finds lone points (no neighbour) so they are drawn as dots', () => {
    expect(isolatedIndices([12, null, 4, null, 1])).toEqual([0, 2, 4]);
    expect(isolatedIndices([1, 2, null, 3])).toEqual([3]);
    expect(isolatedIndices([null, null])).toEqual([]);
    expect(isolatedIndices([5])).toEqual([0]);
  });
  it('reports rates per minute whatever the step', () => {
    const five = { step_seconds: 300, timestamps: [t0], series: { request_ok: [50], request_error: [0], request_aborted: [0] } };
    const [requests] = metricsPanels(five, { nowMs: t0 + 3_600_000 });
    expect(requests.lines[0].values).toEqual([10]);
    expect(requests.unit).toBe('req/min');
  });
  it('adds the latency SLO as a threshold and shapes uPlot data with x in seconds', () => {
    const [, latency] = metricsPanels(res, { nowMs: t0, latencyTargetMs: 6000 });
    expect(latency.threshold).toEqual({ value: 6000, label: 'SLO' });
    const data = alignedData(latency);
    expect(data[0][0]).toBe(t0 / 1000);
    expect(data.length).toBe(3);
  });
  it('clips to a range that ends in the past and survives malformed input', () => {
    const c = clip(res, t0 + MIN, t0 + 2 * MIN);
    expect(c.keep).toEqual([1, 2]);
    const panels = metricsPanels({ timestamps: [t0, 'x', t0 + MIN], series: { request_ok: ['a', 3] } as any }, { nowMs: t0 });
    expect(panels[0].xs).toEqual([t0 / 1000, (t0 + MIN) / 1000]);
    expect(metricsPanels({}, { nowMs: 0 })[0]).toMatchObject({ xs: [], headline: null, peak: null, partialIndex: null });
    expect(latestComplete([1, null], 2)).toEqual({ value: 1, index: 0 });
  });
  it('formats values with units and short axis labels', () => {
    expect(formatValue(1234.5, 'ms')).toBe('1,235 ms');
    expect(formatValue(0.25, 'req/min')).toBe('0.25 req/min');
    expect(formatValue(null, 'ms')).toBe('—');
    expect(formatAxis(1500)).toBe('1.5k');
    expect(formatAxis(20000)).toBe('20k');
    expect(formatAxis(2_000_000)).toBe('2M');
    expect(formatAxis(0.5)).toBe('0.5');
  });
});
