import { describe, expect, it } from 'vitest';
import {
  absoluteRange, describeRange, historyQuery, isLive, parseInstant, rangeFromParams, rangeToParams, refreshMs, resolveRange,
} from '../src/lib/timerange';
import { formatHash, parseHash } from '../src/lib/router';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

describe('time ranges', () => {
  it('parses relative, epoch and ISO instants', () => {
    expect(parseInstant('now', NOW)).toBe(NOW);
    expect(parseInstant('now-6h', NOW)).toBe(NOW - 6 * 3_600_000);
    expect(parseInstant('now - 30m', NOW)).toBe(NOW - 30 * 60_000);
    expect(parseInstant('now-7d', NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseInstant('now-2w', NOW)).toBe(NOW - 14 * 86_400_000);
    expect(parseInstant(String(NOW - 5000), NOW)).toBe(NOW - 5000);
    expect(parseInstant('2026-12-01T10:00Z', NOW)).toBe(Date.UTC(2026, 11, 1, 10, 0));
  });
  it('rejects nonsense with a message naming the value and the accepted forms', () => {
    expect(() => parseInstant('yesterday', NOW)).toThrow(/"yesterday" is not a time: expected now, now-<n>/);
    expect(() => parseInstant('now-6y', NOW)).toThrow(/now-6y/);
    expect(() => parseInstant('2026-12-01', NOW)).toThrow(/date-time/);
    expect(() => resolveRange({ from: 'now', to: 'now-1h' }, NOW)).toThrow(/must be before/);
  });
  it('asks the API for minutes back from now, scaling the point limit for past ranges', () => {
    expect(historyQuery(resolveRange({ from: 'now-6h', to: 'now' }, NOW), NOW)).toEqual({ minutes: 360, limit: 720 });
    // 1 h that ended 1 h ago: two hours requested, twice the points so the visible hour keeps ~720.
    expect(historyQuery(resolveRange({ from: 'now-2h', to: 'now-1h' }, NOW), NOW)).toEqual({ minutes: 120, limit: 1440 });
    expect(historyQuery(resolveRange({ from: 'now-60d', to: 'now' }, NOW), NOW).minutes).toBe(43_200);
  });
  it('describes ranges and knows when they follow the clock', () => {
    expect(describeRange({ from: 'now-6h', to: 'now' })).toBe('Last 6 hours');
    expect(describeRange({ from: 'now-90m', to: 'now' })).toBe('now-90m to now');
    expect(describeRange({ from: '1000000000000', to: 'now' }, () => 'X')).toBe('X to now');
    expect(isLive({ from: 'now-1h', to: 'now' })).toBe(true);
    expect(isLive(absoluteRange(NOW - 60_000, NOW))).toBe(false);
  });
});

describe('range and page state in the URL', () => {
  it('round-trips range and refresh through the hash, leaving defaults out', () => {
    const params = rangeToParams({ from: 'now-6h', to: 'now' }, '1m');
    const hash = formatHash('metrics', params);
    expect(hash).toBe('#/metrics?from=now-6h&to=now&refresh=1m');
    const back = rangeFromParams(parseHash(hash).params, NOW);
    expect(back).toEqual({ range: { from: 'now-6h', to: 'now' }, refresh: '1m', error: '' });
    expect(formatHash('metrics', rangeToParams({ from: 'now-1h', to: 'now' }, '30s'))).toBe('#/metrics');
    expect(refreshMs('off')).toBe(0);
    expect(refreshMs('10s')).toBe(10_000);
  });
  it('keeps a zoomed (absolute) range exactly', () => {
    const z = absoluteRange(NOW - 600_500, NOW - 100_200);
    expect(z).toEqual({ from: String(NOW - 601_000), to: String(NOW - 100_000) });
    const back = rangeFromParams(parseHash(formatHash('metrics', rangeToParams(z, '30s'))).params, NOW);
    expect(resolveRange(back.range, NOW)).toEqual({ fromMs: NOW - 601_000, toMs: NOW - 100_000 });
  });
  it('falls back to the last hour on a bad URL, saying why', () => {
    const r = rangeFromParams({ from: 'soon', refresh: 'sometimes' }, NOW);
    expect(r.range).toEqual({ from: 'now-1h', to: 'now' });
    expect(r.refresh).toBe('30s');
    expect(r.error).toMatch(/"soon" is not a time.*showing the last hour/);
  });
  it('keeps the session page state: key, view, search and list page', () => {
    const hash = formatHash('sessions', { key: 'a b', view: 'tree', q: 'incident', p: '3' });
    expect(parseHash(hash)).toEqual({ page: 'sessions', params: { key: 'a b', view: 'tree', q: 'incident', p: '3' } });
  });
});
