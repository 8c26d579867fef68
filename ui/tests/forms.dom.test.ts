import { afterEach, describe, expect, it } from 'vitest';
import { render, screen, fireEvent, waitFor } from '@testing-library/svelte';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import ApiKeys from '../src/pages/auth/ApiKeys.svelte';
import ChangePassword from '../src/pages/auth/ChangePassword.svelte';

/** A real HTTP server standing in for the engine's key endpoints; the page's origin is set to it. */
async function engine() {
  const seen: { method: string; url: string; body: string; headers: IncomingMessage['headers'] }[] = [];
  const keys: any[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body, headers: req.headers });
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/api/auth/api_keys') return res.end(JSON.stringify({ ok: true, keys }));
      if (req.method === 'POST' && req.url === '/api/auth/api_keys') {
        const b = JSON.parse(body);
        keys.unshift({ id: 1, label: b.label, prefix: 'mk_1234', scopes: b.scopes, created_at: Date.now(), expires_at: null, last_used_at: null, revoked_at: null, rotated_from_key_id: null });
        return res.end(JSON.stringify({ ok: true, id: 1, api_key: 'mk_0123456789abcdef0123456789abcdef', prefix: 'mk_1234', scopes: b.scopes, expires_at: null }));
      }
      if (req.url === '/api/auth/password') {
        if (JSON.parse(body).current_password === 'wrong-current') {
          res.statusCode = 401;
          return res.end(JSON.stringify({ ok: false, error: { code: 'UNAUTHORIZED', message: 'current_password is wrong: the password was not changed' } }));
        }
        return res.end(JSON.stringify({ ok: true }));
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
  return { seen };
}
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

describe('API key form', () => {
  it('refuses an empty label and no scopes without calling the server', async () => {
    const { seen } = await engine();
    render(ApiKeys);
    await waitFor(() => expect(seen.length).toBe(1)); // the initial list
    await fireEvent.click(screen.getByTestId('key-scope-operator.read')); // untick the default scope
    await fireEvent.input(screen.getByTestId('key-expiry'), { target: { value: '9999' } });
    await fireEvent.click(screen.getByTestId('key-create'));
    expect(screen.getByTestId('key-label-error').textContent).toMatch(/label/);
    expect(screen.getByTestId('key-scopes-error').textContent).toMatch(/at least one scope/);
    expect(screen.getByTestId('key-expiry-error').textContent).toMatch(/3650/);
    expect(seen.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('creates a key, shows the raw key once with a copy button, and lists it', async () => {
    const { seen } = await engine();
    render(ApiKeys);
    await fireEvent.input(screen.getByTestId('key-label'), { target: { value: 'grafana' } });
    await fireEvent.click(screen.getByTestId('key-scope-operator.write'));
    await fireEvent.click(screen.getByTestId('key-create'));
    await waitFor(() => expect(screen.getByTestId('key-raw').textContent).toBe('mk_0123456789abcdef0123456789abcdef'));
    expect(screen.getByTestId('key-copy')).toBeTruthy();
    const post = seen.find((r) => r.method === 'POST')!;
    expect(JSON.parse(post.body)).toEqual({ label: 'grafana', scopes: ['operator.read', 'operator.write'], expires_days: 90 });
    expect(post.headers['x-csrf-token']).toBe('csrf-abc');
    await waitFor(() => expect(screen.getAllByTestId('key-row').length).toBe(1));
  });
});

describe('change password form', () => {
  it('explains the 12-character minimum and sends nothing for a short password', async () => {
    const { seen } = await engine();
    render(ChangePassword);
    await fireEvent.input(screen.getByTestId('new-password'), { target: { value: 'short-pass' } });
    await fireEvent.input(screen.getByTestId('new-password-confirm'), { target: { value: 'short-pass' } });
    await fireEvent.click(screen.getByTestId('change-password-submit'));
    expect(screen.getByTestId('password-error').textContent).toMatch(/at least 12 characters/);
    expect(seen).toEqual([]);
  });

  it('asks for the current password and sends nothing without it', async () => {
    const { seen } = await engine();
    render(ChangePassword);
    await fireEvent.input(screen.getByTestId('new-password'), { target: { value: 'correct horse battery' } });
    await fireEvent.input(screen.getByTestId('new-password-confirm'), { target: { value: 'correct horse battery' } });
    await fireEvent.click(screen.getByTestId('change-password-submit'));
    expect(screen.getByTestId('password-error').textContent).toMatch(/current password/);
    expect(seen).toEqual([]);
  });

  it('posts the new password with the current one', async () => {
    const { seen } = await engine();
    render(ChangePassword);
    await fireEvent.input(screen.getByTestId('current-password'), { target: { value: 'the old passphrase' } });
    await fireEvent.input(screen.getByTestId('new-password'), { target: { value: 'correct horse battery' } });
    await fireEvent.input(screen.getByTestId('new-password-confirm'), { target: { value: 'correct horse battery' } });
    await fireEvent.click(screen.getByTestId('change-password-submit'));
    await waitFor(() => expect(seen.length).toBe(1));
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/auth/password' });
    expect(JSON.parse(seen[0].body)).toEqual({ password: 'correct horse battery', current_password: 'the old passphrase' });
  });

  it('shows the server refusing a wrong current password', async () => {
    await engine();
    render(ChangePassword);
    await fireEvent.input(screen.getByTestId('current-password'), { target: { value: 'wrong-current' } });
    await fireEvent.input(screen.getByTestId('new-password'), { target: { value: 'correct horse battery' } });
    await fireEvent.input(screen.getByTestId('new-password-confirm'), { target: { value: 'correct horse battery' } });
    await fireEvent.click(screen.getByTestId('change-password-submit'));
    await waitFor(() => expect(screen.getByTestId('password-error').textContent).toMatch(/current_password is wrong/));
  });
});
