import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { contrastRatio, themeVariables } from '../src/lib/contrast';
import { forkKeyError, proposeForkKey, proposeForkLabel, rootKey } from '../src/lib/fork-naming';
import { stopMarker, textBlocks } from '../src/lib/chat-text';
import { applyTail, atLeast, emptyLogView, parseLogLine } from '../src/lib/logs';
import { configKeys, fixLink, fixSegments, readableMessage } from '../src/lib/safety';
import { methodRows, routeRows } from '../src/lib/breakdowns';
import { overviewVerdict } from '../src/lib/overview';
import { sloCards } from '../src/lib/slo';
import { detailPairs, formatDuration } from '../src/lib/format';

describe('WCAG AA contrast of the theme (both schemes)', () => {
  const css = readFileSync(resolve(__dirname, '../src/app.css'), 'utf8');
  const [light, dark] = themeVariables(css);
  const merged = [light, { ...light, ...dark }];
  it.each([
    ['primary (orange) button text', '--accent-text', '--accent'],
    ['active nav item', '--accent-strong', '--panel-2'],
    ['body text', '--text', '--bg'],
    ['muted text on panels', '--muted', '--panel-2'],
    ['error text', '--bad', '--panel'],
    ['ok badge', '--ok', '--panel'],
    ['warning text', '--warn-text', '--panel'],
  ])('%s is at least 4.5:1', (_what, fg, bg) => {
    for (const vars of merged) {
      expect(contrastRatio(vars[fg], vars[bg]), `${fg} on ${bg}: ${vars[fg]} / ${vars[bg]}`).toBeGreaterThanOrEqual(4.5);
    }
  });
  it('measures known pairs right (the old orange failed)', () => {
    expect(contrastRatio('#ffffff', '#000000')).toBeCloseTo(21, 0);
    expect(contrastRatio('#ffffff', '#d9480f')).toBeLessThan(4.5);
  });
});

describe('fork naming (decisions.md)', () => {
  it('proposes <root key>-fork-<8 hex>, not a growing chain', () => {
    expect(proposeForkKey('a', '8dd9ce99')).toBe('a-fork-8dd9ce99');
    expect(proposeForkKey('a-fork-8dd9ce99', '31ef8033')).toBe('a-fork-31ef8033');
    expect(rootKey('a-fork-8dd9ce99-fork-31ef8033')).toBe('a');
    expect(rootKey('my-fork-of-x')).toBe('my-fork-of-x');
    expect(proposeForkKey('main')).toMatch(/^main-fork-[0-9a-f]{8}$/);
  });
  it('adds " (fork)" to the label only once', () => {
    expect(proposeForkLabel('incident 42', 'a')).toBe('incident 42 (fork)');
    expect(proposeForkLabel('a (fork)', 'a-fork-8dd9ce99')).toBe('a (fork)');
    expect(proposeForkLabel(null, 'a-fork-8dd9ce99')).toBe('a (fork)');
  });
  it('checks an edited key', () => {
    expect(forkKeyError('', 'a')).toMatch(/Enter a key/);
    expect(forkKeyError(' b', 'a')).toMatch(/space/);
    expect(forkKeyError('a', 'a')).toMatch(/key of its own/);
    expect(forkKeyError('b', 'a')).toBe('');
  });
});

describe('transcript text and run markers', () => {
  it('puts column lists (like /help) in table blocks and keeps prose', () => {
    const help = 'Built-in operator agent commands:\n  /help                        this list\n  /echo TEXT                   reply with TEXT\n';
    expect(textBlocks(help)).toEqual([
      { kind: 'text', text: 'Built-in operator agent commands:' },
      { kind: 'table', text: '  /help                        this list\n  /echo TEXT                   reply with TEXT' },
      { kind: 'text', text: '' },
    ]);
    expect(textBlocks('| a | b |\n|---|---|\n| 1 | 2 |')).toEqual([{ kind: 'table', text: '| a | b |\n|---|---|\n| 1 | 2 |' }]);
    expect(textBlocks('one line  with  spaces\nplain')).toEqual([{ kind: 'text', text: 'one line  with  spaces\nplain' }]);
  });
  it('marks failed and killed runs, and leaves normal replies alone', () => {
    expect(stopMarker('error', 'simulated failure (/fail)')).toEqual({ kind: 'error', text: 'The run failed: simulated failure (/fail)' });
    expect(stopMarker('aborted')).toEqual({ kind: 'aborted', text: 'Stopped: the run was killed' });
    expect(stopMarker('timeout')?.kind).toBe('error');
    expect(stopMarker(undefined)).toBeNull();
    expect(stopMarker('stop')).toBeNull();
    expect(stopMarker(undefined, 'boom')).toEqual({ kind: 'error', text: 'The run failed: boom' });
  });
});

describe('logs tail', () => {
  it('parses `<ts> <LEVEL> <target>: <message>` and filters by minimum level', () => {
    const l = parseLogLine('2026-12-01T10:00:00.123Z WARN microclaw_gateway::http: slow request: 900 ms', 7);
    expect(l).toMatchObject({ n: 7, ts: '2026-12-01T10:00:00.123Z', level: 'WARN', target: 'microclaw_gateway::http', message: 'slow request: 900 ms' });
    expect(parseLogLine('garbage').level).toBeNull();
    expect(atLeast('ERROR', 'WARN')).toBe(true);
    expect(atLeast('INFO', 'WARN')).toBe(false);
    expect(atLeast(null, 'ERROR')).toBe(true);
  });
  it('continues by cursor, bounds the buffer and reports missed lines', () => {
    let v = applyTail(emptyLogView(), { file: 'memory', cursor: 3, size: 10, lines: ['a', 'b'], truncated: true, reset: false }, 3);
    expect(v.cursor).toBe(3);
    expect(v.notices).toEqual([]); // the first read is a tail by design
    v = applyTail(v, { file: 'memory', cursor: 5, size: 10, lines: ['c', 'd'], truncated: false, reset: true }, 3);
    expect(v.lines.map((l) => l.raw)).toEqual(['b', 'c', 'd']);
    expect(v.lines.map((l) => l.n)).toEqual([2, 3, 4]);
    expect(v.notices[0]).toMatch(/missed/);
  });
});

describe('safety findings', () => {
  it('point at the page that fixes them and drop REST calls there', () => {
    expect(fixLink('api_key_stale')).toEqual({ href: '#/auth', label: 'Revoke the key on the Auth page' });
    expect(fixLink('login_throttle_weak')).toBeNull();
    const seg = fixSegments('revoke key 3 (DELETE /api/auth/api_keys/3)', true);
    expect(seg.map((s) => s.text).join('')).toBe('revoke key 3');
    const cfg = fixSegments('set server.trust_x_forwarded_for = false unless a proxy', false);
    expect(cfg).toContainEqual({ code: true, text: 'server.trust_x_forwarded_for = false' });
    const msg = 'SLO burn alert firing: {"slo":"request_success_rate","severity":"page","window":"1h+5m","burn_rate":99.99999999999991,"since":1796124035858}';
    expect(readableMessage(msg, () => 'T')).toBe('SLO burn alert firing: request_success_rate · severity page · window 1h+5m · burn rate 100.0× · since T');
    expect(readableMessage('plain {not json}')).toBe('plain {not json}');
    expect(readableMessage('no braces')).toBe('no braces');
    expect(configKeys('use at most 20 (auth.login_max_attempts, auth.login_window_seconds)')).toEqual(['auth.login_max_attempts', 'auth.login_window_seconds']);
  });
});

describe('metrics breakdowns', () => {
  it('turns the per-route and per-method counters into rows, busiest first', () => {
    const m = {
      http_requests_by_route: { '/api/sessions': { '2xx': 5, '4xx': 1, '5xx': 2 }, '/health': { '2xx': 9 }, '/idle': {} },
      bridge_requests_by_method: { 'chat.send': { ok: 3, error: 1 }, health: { ok: 10, error: 0 } },
    };
    expect(routeRows(m)).toEqual([
      { route: '/health', total: 9, ok: 9, clientErrors: 0, serverErrors: 0, errorRatio: 0 },
      { route: '/api/sessions', total: 8, ok: 5, clientErrors: 1, serverErrors: 2, errorRatio: 0.25 },
    ]);
    expect(methodRows(m).map((r) => [r.method, r.total, r.errorRatio])).toEqual([['health', 10, 0], ['chat.send', 4, 0.25]]);
    expect(routeRows(null)).toEqual([]);
  });
});

describe('overview verdict and SLO budgets', () => {
  const summary = {
    slo: {
      request_success_rate: { value: null, state: 'no_data', target: 0.995, sample_size: 0 },
      tool_reliability: { value: 0.9, target: 0.985, sample_size: 20 },
    },
    error_budget: { request_success_rate: { remaining_ratio: 1, state: 'no_data' } },
  };
  it('shows a budget without samples as no data, never 100 %', () => {
    const [rsr] = sloCards(summary);
    expect(rsr).toMatchObject({ state: 'no-data', budgetLeft: null, hasBudget: true });
    const ok = sloCards({ slo: { request_success_rate: { value: 1, target: 0.995, sample_size: 9 } }, error_budget: { request_success_rate: { remaining_ratio: 0.8 } } });
    expect(ok[0].budgetLeft).toBe(0.8);
  });
  it('says degraded below target, failing on a paging alert, unknown without data', () => {
    const cards = sloCards(summary);
    expect(overviewVerdict({ reachable: true, cards, firing: [], risk: 'low' })).toEqual({ verdict: 'degraded', reasons: ['below target: Tool reliability'] });
    expect(overviewVerdict({ reachable: true, cards, firing: [{ slo: 'x', severity: 'page' }], risk: null }).verdict).toBe('failing');
    expect(overviewVerdict({ reachable: false, cards, firing: [], risk: null }).verdict).toBe('failing');
    expect(overviewVerdict({ reachable: true, cards: sloCards({ slo: { a: { value: null, sample_size: 0 } } }), firing: [], risk: 'none' }).verdict).toBe('unknown');
  });
});

describe('formatting', () => {
  it('spans and audit details in words', () => {
    expect(formatDuration(95_000)).toBe('1m 35s');
    expect(formatDuration(90_000_000)).toBe('1d 1h');
    expect(formatDuration(0)).toBe('0s');
    expect(detailPairs('{"key_id":3,"scopes":["operator.read"]}')).toEqual([['key_id', '3'], ['scopes', '["operator.read"]']]);
    expect(detailPairs('plain text')).toEqual([['', 'plain text']]);
    expect(detailPairs(null)).toEqual([]);
  });
});
