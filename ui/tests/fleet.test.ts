import { describe, expect, it, vi } from 'vitest';
import { createHttp, fleetApi, type FleetGateway } from '../src/lib/api';
import { messageText, orderRows, sparkColumns, statusLabel, statusTone, upShare, urlProblem } from '../src/lib/fleet';

const row = (over: Partial<FleetGateway>): FleetGateway => ({
  id: 1, name: 'b', url: 'ws://h:1/', kind: 'microclaw', local: false, status: 'up', latencyMs: 3,
  version: '0.1.0', protocol: 4, sessionCount: 2, lastCheckedAt: 1, lastError: null, ...over,
});

describe('fleet logic', () => {
  it('labels and tones each state', () => {
    expect(statusTone('up')).toBe('ok');
    expect(statusTone('down')).toBe('bad');
    expect(statusTone('auth_failed')).toBe('warn');
    expect(statusTone('unknown')).toBe('muted');
    expect(statusLabel({ status: 'down', downProbes: 3 })).toBe('down (3 probes)');
    expect(statusLabel({ status: 'auth_failed' })).toBe('token refused');
    expect(statusLabel({ status: 'unknown' })).toBe('not probed yet');
  });

  it('draws failed probes as gaps, oldest first', () => {
    const [xs, ys] = sparkColumns([
      { at: 3000, status: 'up', latencyMs: 7, error: null },
      { at: 1000, status: 'up', latencyMs: 5, error: null },
      { at: 2000, status: 'down', latencyMs: null, error: 'refused' },
    ]);
    expect(xs).toEqual([1, 2, 3]);
    expect(ys).toEqual([5, null, 7]);
    expect(upShare([])).toBeNull();
    expect(upShare([{ at: 1, status: 'up', latencyMs: 1, error: null }, { at: 2, status: 'down', latencyMs: null, error: 'x' }])).toBe(0.5);
  });

  it('puts the local engine first, then remotes by name', () => {
    const rows = orderRows([row({ id: 2, name: 'zeta' }), row({ id: 'local', name: 'this console', local: true }), row({ id: 3, name: 'alpha' })]);
    expect(rows.map((r) => r.id)).toEqual(['local', 3, 2]);
  });

  it('reads message text of either shape', () => {
    expect(messageText({ content: 'plain' })).toBe('plain');
    expect(messageText({ content: [{ type: 'text', text: 'a' }, { type: 'image' }, { type: 'text', text: 'b' }] })).toBe('a\nb');
    expect(messageText({ text: 't' })).toBe('t');
    expect(messageText({})).toBe('');
  });

  it('checks a gateway url like the server does', () => {
    expect(urlProblem('ws://10.0.0.5:18789/')).toBeNull();
    expect(urlProblem('https://gw.example')).toBeNull();
    expect(urlProblem('ftp://h')).toMatch(/expected ws:\/\//);
    expect(urlProblem('ws://')).not.toBeNull();
  });
});

describe('fleetApi', () => {
  it('forwards one call and unwraps the payload; sends the token only when adding', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetchImpl = vi.fn(async (url: any, init: any) => {
      calls.push({ url: String(url), init });
      const body = String(url).endsWith('/call') ? { ok: true, payload: { sessions: [{ key: 'k' }] } } : { id: 7 };
      return new Response(JSON.stringify(body), { status: 200 });
    });
    const fleet = fleetApi(createHttp({ fetchImpl: fetchImpl as any }));
    const got = await fleet.call(7, 'sessions.list', { limit: 5 });
    expect(got).toEqual({ sessions: [{ key: 'k' }] });
    expect(calls[0].url).toBe('/api/gateways/7/call');
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ method: 'sessions.list', params: { limit: 5 } });
    await fleet.add('lab', 'ws://h:1/', 'mk_secret');
    expect(JSON.parse(String(calls[1].init.body))).toEqual({ name: 'lab', url: 'ws://h:1/', token: 'mk_secret' });
    await fleet.update(7, { name: 'lab2' });
    expect(calls[2].init.method).toBe('PATCH');
    expect(String(calls[2].init.body)).not.toContain('token');
  });
});
