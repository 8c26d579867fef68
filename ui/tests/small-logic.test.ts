import { describe, expect, it } from 'vitest';
import { parseHash, formatHash } from '../src/lib/router';
import { shortcutFor, isSendShortcut } from '../src/lib/shortcuts';
import { sloCards } from '../src/lib/slo';
import { chartGeometry, niceCeil, seriesFrom } from '../src/lib/chart';
import { readCookie } from '../src/lib/credentials';
import { messageText } from '../src/lib/chat-text';

describe('hash router', () => {
  it('parses pages and params and falls back to sessions', () => {
    expect(parseHash('#/setup?token=abc%2F1')).toEqual({ page: 'setup', params: { token: 'abc/1' } });
    expect(parseHash('#/metrics')).toEqual({ page: 'metrics', params: {} });
    expect(parseHash('')).toEqual({ page: 'sessions', params: {} });
    expect(parseHash('#/nope')).toEqual({ page: 'sessions', params: {} });
    expect(parseHash(formatHash('sessions', { key: 'spawn:ab cd', view: undefined }))).toEqual({ page: 'sessions', params: { key: 'spawn:ab cd' } });
  });
});

describe('keyboard shortcuts', () => {
  it('g then a letter switches page; Alt+digit too; / focuses search', () => {
    expect(shortcutFor({ key: 'g' }, false)).toEqual({ kind: 'prefix' });
    expect(shortcutFor({ key: 's' }, true)).toEqual({ kind: 'goto', page: 'sessions' });
    expect(shortcutFor({ key: 'm' }, true)).toEqual({ kind: 'goto', page: 'metrics' });
    expect(shortcutFor({ key: 'm' }, false)).toBeNull();
    expect(shortcutFor({ key: '3', altKey: true }, false)).toEqual({ kind: 'goto', page: 'auth' });
    expect(shortcutFor({ key: '/' }, false)).toEqual({ kind: 'search' });
  });
  it('never fires while typing, except Alt+digit', () => {
    expect(shortcutFor({ key: '/', inEditable: true }, false)).toBeNull();
    expect(shortcutFor({ key: 's', inEditable: true }, true)).toBeNull();
    expect(shortcutFor({ key: '1', altKey: true, inEditable: true }, false)).toEqual({ kind: 'goto', page: 'sessions' });
  });
  it('Ctrl+Enter and Cmd+Enter send, plain Enter does not', () => {
    expect(isSendShortcut({ key: 'Enter', ctrlKey: true })).toBe(true);
    expect(isSendShortcut({ key: 'Enter', metaKey: true })).toBe(true);
    expect(isSendShortcut({ key: 'Enter' })).toBe(false);
  });
});

describe('SLO cards', () => {
  const summary = {
    slo: {
      request_success_rate: { value: 0.98, target: 0.995, burn_alert: 0.99, sample_size: 200 },
      e2e_latency_p95_ms: { value: 0, target: 6000, burn_alert: 10000, sample_size: 0 },
      tool_reliability: { value: 1, target: 0.985, burn_alert: 0.97, success: 10, error: 0 },
    },
    alerts: [{ slo: 'request_success_rate', severity: 'page', window: '1h', burn_rate: 20 }],
    error_budget: { request_success_rate: { remaining_ratio: 0.4 } },
  };
  it('says burning for a firing SLO, no data without samples, healthy otherwise', () => {
    const cards = sloCards(summary);
    const by = Object.fromEntries(cards.map((c) => [c.id, c]));
    expect(by.request_success_rate).toMatchObject({ state: 'burning', alertSeverity: 'page', budgetLeft: 0.4, samples: 200 });
    expect(by.e2e_latency_p95_ms).toMatchObject({ state: 'no-data', unit: 'ms' });
    expect(by.tool_reliability).toMatchObject({ state: 'ok', samples: 10 });
  });
  it('says below target without an alert, and copes with a missing summary', () => {
    const c = sloCards({ slo: { request_success_rate: { value: 0.99, target: 0.995, sample_size: 5 } } });
    expect(c[0].state).toBe('at-risk');
    expect(sloCards(null)).toEqual([]);
  });
});

describe('charts', () => {
  it('turns per-bucket deltas into per-minute rates and leaves latency gaps where nothing ran', () => {
    const pts = [
      { timestamp_ms: 0, request_ok: 10, request_error: 2, p95_latency_ms: 300, active_runs: 1 },
      { timestamp_ms: 300_000, request_ok: 0, request_error: 0, p95_latency_ms: 0, active_runs: 0 },
    ];
    const s = seriesFrom(pts, 300);
    expect(s.requests.ys).toEqual([2.4, 0]);
    expect(s.errors.ys).toEqual([0.4, 0]);
    expect(s.p95.ys).toEqual([300, null]);
  });
  it('scales to a round max that includes the SLO line', () => {
    const g = chartGeometry({ xs: [0, 1], ys: [100, 200] }, 100, 50, 6000);
    expect(g.yMax).toBe(10000);
    expect(g.thresholdY).toBeCloseTo(20);
    expect(g.path.startsWith('M0.0,')).toBe(true);
    expect(niceCeil(0.3)).toBe(0.5);
    expect(chartGeometry({ xs: [], ys: [] }, 10, 10).hasData).toBe(false);
  });
});

describe('small parsers', () => {
  it('reads cookies', () => {
    expect(readCookie('mc_csrf', 'a=1; mc_csrf=tok%3D1; mc_session=x')).toBe('tok=1');
    expect(readCookie('mc_csrf', 'a=1')).toBeUndefined();
  });
  it('extracts text from every message shape', () => {
    expect(messageText('hi')).toBe('hi');
    expect(messageText({ role: 'assistant', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] })).toBe('ab');
    expect(messageText({ text: 'z' })).toBe('z');
    expect(messageText(null)).toBe('');
  });
});
