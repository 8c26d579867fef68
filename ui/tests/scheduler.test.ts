import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttp, createSchedulerApi, ApiError } from '../src/lib/api';
import {
  debouncer, describeSchedule, emptyForm, everyText, formFromJob, jobBody, previewParams, scheduleOf,
} from '../src/pages/scheduler/logic';

describe('scheduler form logic', () => {
  it('builds a cron job body with the zone, retry and a session', () => {
    const f = { ...emptyForm(), name: ' nightly ', expr: ' 0  9 * * 1-5 ', tz: 'America/New_York', message: '/echo hi', maxAttempts: '5', backoffSeconds: '10' };
    expect(jobBody(f)).toEqual({
      name: 'nightly',
      schedule: { kind: 'cron', expr: '0 9 * * 1-5', tz: 'America/New_York' },
      payload: { kind: 'agentTurn', message: '/echo hi' },
      sessionKey: 'main',
      retry: { maxAttempts: 5, backoffMs: 10000 },
      catchUp: 'once',
      enabled: true,
    });
  });

  it('turns every N units into everyMs, an empty session into isolated, a local time into ISO', () => {
    const every = jobBody({ ...emptyForm(), kind: 'every', every: '90', unit: 's', message: 'x', sessionKey: '' });
    expect(every.schedule).toEqual({ kind: 'every', everyMs: 90000 });
    expect(every.sessionTarget).toBe('isolated');
    expect(every.sessionKey).toBeNull();
    const at = jobBody({ ...emptyForm(), kind: 'at', at: '2031-05-06T07:08', message: 'x' });
    expect(at.schedule).toEqual({ kind: 'at', at: new Date(2031, 4, 6, 7, 8).toISOString() });
  });

  it('names the field that is wrong', () => {
    expect(() => jobBody({ ...emptyForm(), message: '' })).toThrow(/message: required/);
    expect(() => jobBody({ ...emptyForm(), expr: '  ', message: 'x' })).toThrow(/expression: required/);
    expect(() => jobBody({ ...emptyForm(), kind: 'every', every: '0', message: 'x' })).toThrow(/every: expected a number greater than 0/);
    expect(() => jobBody({ ...emptyForm(), kind: 'every', every: '0.5', unit: 's', message: 'x' })).toThrow(/at least 1 second/);
    expect(() => jobBody({ ...emptyForm(), kind: 'at', at: 'soon', message: 'x' })).toThrow(/"soon" is not a date/);
    expect(() => jobBody({ ...emptyForm(), message: 'x', maxAttempts: '11' })).toThrow(/max attempts: expected a whole number 1\.\.10/);
    expect(scheduleOf({ ...emptyForm(), kind: 'at', at: '' }).error).toMatch(/pick a date/);
  });

  it('asks the preview for what is typed, and for nothing when the schedule is incomplete', () => {
    expect(previewParams({ ...emptyForm(), expr: '*/5 * * * *', tz: 'Europe/Berlin' })).toEqual({ kind: 'cron', expr: '*/5 * * * *', tz: 'Europe/Berlin' });
    expect(previewParams({ ...emptyForm(), kind: 'every', every: '2', unit: 'h' })).toEqual({ kind: 'every', everyMs: 7_200_000 });
    expect(previewParams({ ...emptyForm(), expr: '' })).toBeNull();
  });

  it('reads a stored job back into the form (round trip)', () => {
    const job = {
      id: 'job_1', name: 'n', enabled: false, schedule: { kind: 'every' as const, everyMs: 7_200_000 },
      payload: { kind: 'agentTurn', message: 'm', timeoutSeconds: 30 }, sessionKey: 'ops', retry: { maxAttempts: 2, backoffMs: 5000 }, catchUp: 'skip',
    };
    const f = formFromJob(job);
    expect([f.every, f.unit, f.enabled, f.catchUp, f.backoffSeconds, f.timeoutSeconds]).toEqual(['2', 'h', false, 'skip', '5', '30']);
    expect(jobBody(f)).toMatchObject({ schedule: job.schedule, sessionKey: 'ops', retry: { maxAttempts: 2, backoffMs: 5000 }, enabled: false });
  });

  it('describes schedules for the list', () => {
    expect(describeSchedule({ kind: 'cron', expr: '0 9 * * *', tz: 'Asia/Tokyo' })).toBe('cron 0 9 * * * (Asia/Tokyo)');
    expect(describeSchedule({ kind: 'cron', expr: '0 9 * * *' })).toBe('cron 0 9 * * * (UTC)');
    expect(describeSchedule({ kind: 'every', everyMs: 60000 })).toBe('every 1 minute');
    expect(everyText(90_000)).toBe('90 seconds');
    expect(everyText(1500)).toBe('1500 ms');
  });

  it('debounces to the last call', () => {
    vi.useFakeTimers();
    try {
      const d = debouncer(300);
      const fn = vi.fn();
      d.schedule(() => fn(1));
      vi.advanceTimersByTime(200);
      d.schedule(() => fn(2));
      vi.advanceTimersByTime(299);
      expect(fn).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(fn).toHaveBeenCalledExactlyOnceWith(2);
      d.schedule(() => fn(3));
      d.cancel();
      vi.advanceTimersByTime(1000);
      expect(fn).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('scheduler API client', () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  it('sends each call to its route and turns an error body into an ApiError', async () => {
    const seen: string[] = [];
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        res.setHeader('content-type', 'application/json');
        if (req.url?.startsWith('/api/scheduler/jobs/job_x/run')) {
          res.statusCode = 403;
          return res.end(JSON.stringify({ ok: false, error: { code: 'FORBIDDEN', message: 'missing scope: operator.admin' } }));
        }
        res.end(JSON.stringify({ ok: true, jobs: [], items: [], entries: [], nextRunsAtMs: [1], nextRuns: ['x'] }));
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    closers.push(() => srv.close());
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    const s = createSchedulerApi(createHttp({ baseUrl: base, token: () => 'k' }));
    await s.jobs();
    await s.updateJob('a b', { enabled: false });
    await s.removeJob('job_1');
    await s.runs('job_1', 20);
    await s.preview({ kind: 'cron', expr: '0 9 * * *', tz: 'UTC' }, 3);
    await s.dlq(true);
    await s.replay('dlq_1');
    await s.discard('dlq_2');
    const err = await s.runJob('job_x').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.message]).toEqual([403, 'missing scope: operator.admin']);
    expect(seen).toEqual([
      'GET /api/scheduler/jobs?enabled=all&limit=200 ',
      'PATCH /api/scheduler/jobs/a%20b {"enabled":false}',
      'DELETE /api/scheduler/jobs/job_1 ',
      'GET /api/scheduler/runs?jobId=job_1&limit=20 ',
      'GET /api/scheduler/preview?kind=cron&expr=0+9+*+*+*&tz=UTC&count=3 ',
      'GET /api/scheduler/dlq?includeResolved=true ',
      'POST /api/scheduler/dlq/dlq_1/replay {}',
      'POST /api/scheduler/dlq/dlq_2/discard {}',
      'POST /api/scheduler/jobs/job_x/run {"mode":"force"}',
    ]);
  });
});
