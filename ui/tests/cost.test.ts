import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttp } from '../src/lib/api';
import { budgetBars, createCostApi, formFromBudgets, patchFromForm, stackByModel, type BudgetCap } from '../src/lib/cost';

describe('cost page logic', () => {
  it('stacks each day by model, largest model first, with zero for days a model did not run', () => {
    const s = stackByModel(
      ['2026-11-30', '2026-12-01'],
      [
        { date: '2026-11-30', model: 'small', tokens: 10, cost: 0, count: 1 },
        { date: '2026-12-01', model: 'big', tokens: 100, cost: 0.5, count: 2 },
        { date: '2026-12-01', model: 'small', tokens: 5, cost: 0, count: 1 },
        { date: '2099-01-01', model: 'big', tokens: 999, cost: 9, count: 1 },
      ],
      'tokens',
    );
    expect(s.models).toEqual(['big', 'small']);
    expect(s.values).toEqual([[0, 100], [10, 5]]);
    expect(s.tops).toEqual([[0, 100], [10, 105]]);
    expect(s.xs[1] - s.xs[0]).toBe(86_400);
    expect(stackByModel([], [], 'cost').models).toEqual([]);
  });

  it('turns caps into bars: the level follows the warning ratio, resets and rules are named', () => {
    const cap = (over: Partial<BudgetCap>): BudgetCap => ({
      cap: 'daily_tokens', name: 'budgets.daily_tokens', scope: 'global', agentId: null, limit: 1000,
      used: 850, ratio: 0.85, resetsAtMs: Date.UTC(2026, 11, 2), kind: 'budget', window: 'day', exhausted: false, ...over,
    });
    const [warn, full, session, usd] = budgetBars([
      cap({}),
      cap({ name: 'budgets.agents.a.daily_tokens', agentId: 'a', used: 1200, ratio: 1.2 }),
      cap({ cap: 'per_session_tokens', name: 'budgets.per_session_tokens', used: null, ratio: null, resetsAtMs: null, window: 'session' }),
      cap({ cap: 'daily_usd', name: 'budgets.daily_usd', limit: 2, used: 0.5, ratio: 0.25 }),
    ]);
    expect([warn.level, warn.percent, warn.usedText, warn.limitText]).toEqual(['warn', 85, '850', '1,000']);
    expect(warn.resets).toBe('resets 2026-12-02 00:00 UTC (00:00 UTC)');
    expect([full.level, full.percent, full.label]).toEqual(['bad', 100, 'Tokens per day · agent a']);
    expect([session.percent, session.resets, session.usedText]).toEqual([null, 'per session, never resets', 'counted per session']);
    expect([usd.level, usd.usedText, usd.limitText]).toEqual(['ok', '$0.5000', '$2.00']);
  });

  it('builds the flat patch: blank clears, numbers pass, bad text is named', () => {
    const form = formFromBudgets({ daily_tokens: 5000, daily_usd: null });
    expect(form.daily_tokens).toBe('5000');
    expect(form.daily_usd).toBe('');
    const ok = patchFromForm({ ...form, daily_usd: '1.5', per_run_tokens: '20,000' });
    expect(ok).toEqual({ patch: {
      per_run_tokens: 20000, per_session_tokens: null, daily_tokens: 5000, daily_usd: 1.5,
      max_tool_calls_per_run: null, max_tokens_per_minute: null,
    } });
    const bad = patchFromForm({ ...form, daily_tokens: '1.5' });
    expect('error' in bad && bad.error).toMatch(/Tokens per day: "1.5" is not a whole number/);
    expect('error' in patchFromForm({ ...form, daily_usd: '-1' })).toBe(true);
  });
});

describe('cost API client', () => {
  it('reads usage, puts the budget patch and fetches the CSV from a real HTTP server', async () => {
    const seen: { method: string; url: string; body: string }[] = [];
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', body });
        if (req.url?.startsWith('/api/usage/export')) {
          res.setHeader('content-type', 'text/csv');
          res.end('date,agent_id\r\n2026-12-01,builtin\r\n');
        } else if (req.method === 'PUT') {
          res.statusCode = 403;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ error: { code: 'FORBIDDEN', message: 'needs operator.admin' } }));
        } else {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ days: 7, daily: [] }));
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as AddressInfo;
    try {
      const api = createCostApi(createHttp({ baseUrl: `http://127.0.0.1:${port}`, token: () => 'k' }));
      expect((await api.usage(7)).days).toBe(7);
      expect(await api.exportCsv(7)).toContain('2026-12-01,builtin');
      await expect(api.setBudgets({ daily_tokens: 5 })).rejects.toThrow(/operator.admin/);
      expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
        'GET /api/usage?days=7', 'GET /api/usage/export?days=7&format=csv', 'PUT /api/budgets',
      ]);
      expect(JSON.parse(seen[2].body)).toEqual({ daily_tokens: 5 });
    } finally {
      srv.close();
    }
  });
});
