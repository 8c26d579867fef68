import { afterEach, describe, expect, it } from 'vitest';
import { render, screen, fireEvent, waitFor } from '@testing-library/svelte';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import JobForm from '../src/pages/scheduler/JobForm.svelte';
import { createHttp, createSchedulerApi } from '../src/lib/api';

/** A real HTTP server answering the preview and add routes the way the gateway does. */
async function engine() {
  const previews: string[] = [];
  const added: any[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/api/scheduler/preview') {
        previews.push(url.search);
        const expr = url.searchParams.get('expr');
        if (expr && expr.split(' ').length < 5) {
          res.statusCode = 400;
          return res.end(JSON.stringify({ ok: false, error: { code: 'INVALID_REQUEST', message: `invalid cron.preview params: schedule.expr '${expr}': expected 5 or 6 fields` } }));
        }
        return res.end(JSON.stringify({ ok: true, nextRunsAtMs: [Date.UTC(2030, 0, 1, 9), Date.UTC(2030, 0, 2, 9)], nextRuns: [] }));
      }
      if (req.method === 'POST' && url.pathname === '/api/scheduler/jobs') {
        added.push(JSON.parse(body));
        return res.end(JSON.stringify({ ok: true, id: 'job_1', ...JSON.parse(body) }));
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ ok: false, error: { code: 'NOT_FOUND', message: 'no route' } }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => srv.close(() => r())));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  (window as any).happyDOM.setURL(`${base}/#/scheduler`);
  return { previews, added, sched: createSchedulerApi(createHttp({ baseUrl: base, token: () => 'k' })) };
}
const closers: (() => Promise<void>)[] = [];
/** Chooses an option of a select, then `change` (as a user's pick does). */
async function pick(testid: string, value: string) {
  const sel = screen.getByTestId(testid) as HTMLSelectElement;
  sel.value = value;
  await fireEvent.change(sel);
}
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

describe('Scheduler job form', () => {
  it('previews the next fire times as the expression is typed, debounced, with errors inline', async () => {
    const { previews, sched } = await engine();
    let saved: any = null;
    render(JobForm, { sched, onsaved: (j: any) => (saved = j), oncancel: () => {} });
    await waitFor(() => expect(screen.getAllByRole('listitem').length).toBe(2));
    expect(previews.length).toBe(1);
    const expr = screen.getByTestId('job-expr');
    // Typing quickly: one request for the last value, not one per key.
    for (const v of ['0', '0 9', '0 9 *']) await fireEvent.input(expr, { target: { value: v } });
    await waitFor(() => expect(screen.getByTestId('preview-error').textContent).toMatch(/schedule\.expr '0 9 \*'.*5 or 6 fields/));
    expect(previews.length).toBe(2);
    await fireEvent.input(expr, { target: { value: '' } });
    expect(screen.getByTestId('preview-error').textContent).toMatch(/expression: required/);
    await fireEvent.input(expr, { target: { value: '30 8 * * 1-5' } });
    await waitFor(() => expect(screen.queryByTestId('preview-list')).toBeTruthy());
    expect(previews.at(-1)).toContain('expr=30+8+*+*+1-5');

    await fireEvent.click(screen.getByTestId('job-save'));
    expect(screen.getByTestId('job-save-error').textContent).toMatch(/message: required/);
    await fireEvent.input(screen.getByTestId('job-message'), { target: { value: '/echo morning' } });
    await fireEvent.click(screen.getByTestId('job-save'));
    await waitFor(() => expect(saved?.id).toBe('job_1'));
    expect(saved.schedule).toEqual({ kind: 'cron', expr: '30 8 * * 1-5', tz: 'UTC' });
  });

  it('switches to every and at, previewing those too', async () => {
    const { previews, sched } = await engine();
    render(JobForm, { sched, onsaved: () => {}, oncancel: () => {} });
    await waitFor(() => expect(previews.length).toBe(1));
    await pick('job-kind', 'every');
    await waitFor(() => expect(screen.getByTestId('job-every')).toBeTruthy());
    await waitFor(() => expect(previews.at(-1)).toContain('kind=every&everyMs=300000'));
    await pick('job-kind', 'at');
    expect(screen.getByTestId('preview-error').textContent).toMatch(/pick a date/);
  });
});
