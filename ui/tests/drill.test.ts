import { describe, expect, it } from 'vitest';
import { budgetBar, budgetText, rangeSuccess, sloCards, stateText } from '../src/lib/slo';
import { availability, budgetOverTime, formatBurn, ruleExplanation, type AlertRule } from '../src/lib/alerts';
import { durationText, freezeText, isFreezeError, sortIncidents, type Incident } from '../src/lib/incidents';
import { ApiError } from '../src/lib/api';

const rule = (over: Partial<AlertRule> = {}): AlertRule => ({
  rule: 'request_success_rate:page:1h/5m', slo: 'request_success_rate', severity: 'page', window: '1h/5m',
  windows: ['1h', '5m'], state: 'inactive', since: 0, fired_at: null, burn_rate: 25, burn_rate_short: 40,
  threshold: 14.4, samples: 8, min_samples: 30, for_ms: 120_000, keep_firing_for_ms: 300_000, ...over,
});

describe('SLO cards agree with the alert rules', () => {
  it('a below-target SLO without a firing rule says "no alert", and the firing one says so', () => {
    const summary = {
      slo: {
        request_success_rate: { value: 0.9865, target: 0.995, sample_size: 8, state: 'ok', alert_state: 'inactive', below_objective: true, objective: 0.995 },
        tool_reliability: { value: 0.5, target: 0.985, sample_size: 40, state: 'burning', alert_state: 'firing', objective: 0.985 },
      },
      alerts: [{ rule: 'tool_reliability:page:1h/5m', slo: 'tool_reliability', severity: 'page' }],
      error_budget: { request_success_rate: { remaining_ratio: 0, consumed_ratio: 2.703, state: 'exhausted', sample_size: 8, period_days: 28 } },
    };
    const [req, tool] = sloCards(summary);
    expect(req.state).toBe('at-risk');
    expect(stateText(req)).toBe('below target · no alert');
    expect(req.alertSeverity).toBeUndefined();
    expect(tool.state).toBe('burning');
    expect(stateText(tool)).toBe('alert firing (page)');
    // The budget text matches the empty bar: exhausted, never "-170.3 % left".
    expect(budgetText(req)).toBe('exhausted (270 % used)');
    expect(budgetBar(req)).toBe(0);
    expect(req.budgetDays).toBe(28);
  });
  it('an SLO without samples is no data, never a healthy 100 %', () => {
    const [c] = sloCards({ slo: { request_success_rate: { value: null, sample_size: 0, state: 'no_data' } }, error_budget: { request_success_rate: { remaining_ratio: null, state: 'no_data' } } });
    expect(c.state).toBe('no-data');
    expect(budgetText(c)).toBe('no data');
  });
  it('the range line follows the chosen range', () => {
    const cols = { timestamps: [0, 60_000, 120_000], series: { request_ok: [10, null, 5], request_error: [0, 0, 5] } };
    expect(rangeSuccess(cols)).toEqual({ value: 0.75, samples: 20 });
    expect(rangeSuccess(cols, 120_000, 180_000)).toEqual({ value: 0.5, samples: 10 });
    expect(rangeSuccess({ timestamps: [], series: {} })).toEqual({ value: null, samples: 0 });
  });
});

describe('alert rules and the SLO detail', () => {
  it('explains the minimum-traffic guard and formats burn rates', () => {
    expect(ruleExplanation(rule())).toBe('inactive: fires when both 1h and 5m burn above 14.4× for 2 min; needs 30 samples in 1h (has 8)');
    expect(formatBurn(16.666)).toBe('16.7×');
    expect(formatBurn(12000, { window: 'value', slo: 'e2e_latency_p95_ms' })).toBe('12000 ms');
  });
  it('the error budget over time falls with each error and stops at 0', () => {
    const pts = [{ ts: 1, ok: 0, error: 0 }, { ts: 2, ok: 100, error: 0 }, { ts: 3, ok: 98, error: 2 }, { ts: 4, ok: 0, error: 10 }];
    const b = budgetOverTime(pts, 0.95); // allowed = 0.05 × 210 = 10.5
    expect(b[0].remaining).toBeNull();
    expect(b[1].remaining).toBe(1);
    expect(b[2].remaining).toBeCloseTo(1 - 2 / 10.5, 6);
    expect(b[3].remaining).toBe(0);
    expect(availability(pts)).toBeCloseTo(198 / 210, 6);
  });
});

describe('incidents and the freeze', () => {
  it('describes the freeze and recognises its refusal', () => {
    expect(freezeText({ active: false })).toBe('');
    expect(freezeText({ active: true, reason: 'page alert x is firing', incidentId: 3, auto: true, until: null }))
      .toBe('Change freeze: page alert x is firing (incident #3, lifts when the page alerts resolve). Non-critical changes are refused; sessions, chat and kills are not affected.');
    expect(isFreezeError(new ApiError(423, 'CHANGE_FREEZE', 'frozen'))).toBe(true);
    expect(isFreezeError(new ApiError(503, 'UNAVAILABLE', 'busy'))).toBe(false);
  });
  it('lists open incidents first and says how long they lasted', () => {
    const base = { severity: 'sev2', owner: null, slo: null, alertIds: [], mitigatedAt: null, updatedAt: 0, title: 't' };
    const list = [
      { ...base, id: 1, status: 'resolved', openedAt: 0, resolvedAt: 90 * 60_000 },
      { ...base, id: 2, status: 'open', openedAt: 0, resolvedAt: null },
      { ...base, id: 3, status: 'mitigated', openedAt: 0, resolvedAt: null },
    ] as Incident[];
    expect(sortIncidents(list).map((i) => i.id)).toEqual([3, 2, 1]);
    expect(durationText(list[0])).toBe('1 h 30 min');
    expect(durationText(list[1], 5 * 60_000)).toBe('5 min');
  });
});
