import { afterEach, describe, expect, it } from 'vitest';
import { render, screen, fireEvent, waitFor } from '@testing-library/svelte';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Devices from '../src/pages/auth/Devices.svelte';
import { devicesVersion } from '../src/lib/app-state';

/** A real HTTP server standing in for the engine's /api/devices endpoints. */
async function engine() {
  const seen: { method: string; url: string; body: string }[] = [];
  const state = {
    pending: [{ requestId: 'req-1', deviceId: 'a'.repeat(64), displayName: 'Ada laptop', scopes: ['operator.read'], ts: Date.now(), expiresAtMs: Date.now() + 300000 }],
    paired: [{ deviceId: 'b'.repeat(64), displayName: 'Desk', scopes: [], approvedVia: 'owner', createdAtMs: 1, approvedAtMs: 1, lastSeenAtMs: Date.now(), connected: true }] as any[],
  };
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body });
      res.setHeader('content-type', 'application/json');
      const url = req.url!;
      if (req.method === 'GET' && url === '/api/devices') return res.end(JSON.stringify({ ok: true, ...state }));
      let m = url.match(/^\/api\/devices\/requests\/([^/]+)\/(approve|reject)$/);
      if (req.method === 'POST' && m) {
        const p = state.pending.find((x) => x.requestId === m![1]);
        if (!p) {
          res.statusCode = 400;
          return res.end(JSON.stringify({ ok: false, error: { code: 'INVALID_REQUEST', message: 'unknown requestId' } }));
        }
        state.pending = state.pending.filter((x) => x !== p);
        if (m[2] === 'approve') state.paired.push({ deviceId: p.deviceId, displayName: p.displayName, scopes: p.scopes, createdAtMs: 1, approvedAtMs: 2, connected: false });
        return res.end(JSON.stringify({ ok: true, requestId: p.requestId, deviceId: p.deviceId }));
      }
      m = url.match(/^\/api\/devices\/([^/]+)\/(remove|rename)$/);
      if (req.method === 'POST' && m) {
        const d = state.paired.find((x) => x.deviceId === m![1]);
        if (m[2] === 'remove') state.paired = state.paired.filter((x) => x !== d);
        else d.operatorLabel = JSON.parse(body).label;
        return res.end(JSON.stringify({ ok: true, deviceId: m[1] }));
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ ok: false, error: { code: 'NOT_FOUND', message: 'no route' } }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  (window as any).happyDOM.setURL(`${base}/#/auth`);
  document.cookie = 'mc_csrf=csrf-abc';
  closers.push(() => new Promise<void>((r) => srv.close(() => r())));
  return { seen, state };
}
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

describe('Devices section', () => {
  it('lists pending and paired devices and approves a waiting one', async () => {
    const { seen } = await engine();
    render(Devices);
    await waitFor(() => expect(screen.getAllByTestId('device-pending-row').length).toBe(1));
    expect(screen.getAllByTestId('device-paired-row')[0].dataset.status).toBe('connected');
    await fireEvent.click(screen.getByTestId('device-approve'));
    await waitFor(() => expect(screen.getAllByTestId('device-paired-row').length).toBe(2));
    expect(screen.getByTestId('devices-pending-empty')).toBeTruthy();
    expect(seen.some((r) => r.method === 'POST' && r.url === '/api/devices/requests/req-1/approve')).toBe(true);
  });

  it('rejects, renames with a checked label, and removes after confirming', async () => {
    const { seen, state } = await engine();
    render(Devices);
    await waitFor(() => expect(screen.getAllByTestId('device-pending-row').length).toBe(1));
    await fireEvent.click(screen.getByTestId('device-reject'));
    await waitFor(() => expect(screen.getByTestId('devices-pending-empty')).toBeTruthy());
    expect(state.paired.length).toBe(1);

    await fireEvent.click(screen.getByTestId('device-rename'));
    await fireEvent.input(screen.getByTestId('device-label'), { target: { value: '   ' } });
    await fireEvent.click(screen.getByTestId('device-rename-save'));
    expect(screen.getByTestId('device-label-error').textContent).toMatch(/1\.\.64/);
    expect(seen.filter((r) => r.url.endsWith('/rename'))).toEqual([]);
    await fireEvent.input(screen.getByTestId('device-label'), { target: { value: ' Kitchen ' } });
    await fireEvent.click(screen.getByTestId('device-rename-save'));
    await waitFor(() => expect(screen.getByTestId('device-paired-row').textContent).toMatch(/Kitchen/));
    expect(JSON.parse(seen.find((r) => r.url.endsWith('/rename'))!.body)).toEqual({ label: 'Kitchen' });

    window.confirm = () => true;
    await fireEvent.click(screen.getByTestId('device-remove'));
    await waitFor(() => expect(screen.getByTestId('devices-paired-empty')).toBeTruthy());
  });

  it('refetches when a device.pair event bumps the version', async () => {
    const { seen, state } = await engine();
    render(Devices);
    await waitFor(() => expect(seen.length).toBe(1));
    state.pending.push({ ...state.pending[0], requestId: 'req-2' });
    devicesVersion.update((n) => n + 1);
    await waitFor(() => expect(screen.getAllByTestId('device-pending-row').length).toBe(2));
  });
});
