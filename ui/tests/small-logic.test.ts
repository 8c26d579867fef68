import { describe, expect, it } from 'vitest';
import { parseHash, formatHash } from '../src/lib/router';
import { shortcutFor, isSendShortcut } from '../src/lib/shortcuts';
import { sloCards } from '../src/lib/slo';
import { readCookie } from '../src/lib/credentials';
import { messageText } from '../src/lib/chat-text';

describe('hash router', () => {
  it('parses pages and params; empty is the Overview, unknown is Not found', () => {
    expect(parseHash('#/setup?token=abc%2F1')).toEqual({ page: 'setup', params: { token: 'abc/1' } });
    expect(parseHash('#/metrics')).toEqual({ page: 'metrics', params: {} });
    expect(parseHash('')).toEqual({ page: 'overview', params: {} });
    expect(parseHash('#/')).toEqual({ page: 'overview', params: {} });
    expect(parseHash('#/nope?x=1')).toEqual({ page: 'notfound', params: { x: '1', path: '/nope' } });
    expect(parseHash('#/audit')).toEqual({ page: 'audit', params: {} });
    expect(parseHash('#/logs')).toEqual({ page: 'logs', params: {} });
    expect(parseHash(formatHash('sessions', { key: 'spawn:ab cd', view: undefined }))).toEqual({ page: 'sessions', params: { key: 'spawn:ab cd' } });
  });
});

describe('keyboard shortcuts', () => {
  it('g then a letter switches page; Alt+digit too; / focuses search', () => {
    expect(shortcutFor({ key: 'g' }, false)).toEqual({ kind: 'prefix' });
    expect(shortcutFor({ key: 's' }, true)).toEqual({ kind: 'goto', page: 'sessions' });
    expect(shortcutFor({ key: 'm' }, true)).toEqual({ kind: 'goto', page: 'metrics' });
    expect(shortcutFor({ key: 'm' }, false)).toBeNull();
    expect(shortcutFor({ key: '3', altKey: true }, false)).toEqual({ kind: 'goto', page: 'metrics' });
    expect(shortcutFor({ key: '8', altKey: true }, false)).toEqual({ kind: 'goto', page: 'gateway' });
    expect(shortcutFor({ key: '9', altKey: true }, false)).toEqual({ kind: 'goto', page: 'fleet' });
    expect(shortcutFor({ key: '0', altKey: true }, false)).toBeNull();
    expect(shortcutFor({ key: 'o' }, true)).toEqual({ kind: 'goto', page: 'overview' });
    expect(shortcutFor({ key: 'l' }, true)).toEqual({ kind: 'goto', page: 'logs' });
    expect(shortcutFor({ key: 'u' }, true)).toEqual({ kind: 'goto', page: 'audit' });
    expect(shortcutFor({ key: '/' }, false)).toEqual({ kind: 'search' });
    expect(shortcutFor({ key: '?' }, false)).toEqual({ kind: 'help' });
    expect(shortcutFor({ key: '?', inEditable: true }, false)).toBeNull();
  });
  it('never fires while typing, except Alt+digit', () => {
    expect(shortcutFor({ key: '/', inEditable: true }, false)).toBeNull();
    expect(shortcutFor({ key: 's', inEditable: true }, true)).toBeNull();
    expect(shortcutFor({ key: '1', altKey: true, inEditable: true }, false)).toEqual({ kind: 'goto', page: 'overview' });
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
      // The server marks an SLO `burning` while one of its rules fires (one source of truth).
      request_success_rate: { value: 0.98, target: 0.995, burn_alert: 0.99, sample_size: 200, state: 'burning', alert_state: 'firing' },
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
