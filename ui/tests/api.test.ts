import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, createApi, createHttp } from '../src/lib/api';

/** A real HTTP server on 127.0.0.1:0 that records requests and answers from a script. */
async function server(answer: (req: IncomingMessage, body: string) => { status: number; body: unknown; headers?: Record<string, string> }) {
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const a = answer(req, body);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  closers.push(() => new Promise<void>((r) => srv.close(() => r())));
  return { base, seen };
}
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

describe('HTTP client credentials', () => {
  it('browser mode: sends x-csrf-token from the mc_csrf cookie on writes and on (admin) reads', async () => {
    const s = await server(() => ({ status: 200, body: { ok: true, keys: [] } }));
    const api = createApi(createHttp({ baseUrl: s.base, cookies: () => 'mc_session=abc; mc_csrf=csrf-1' }));
    await api.listKeys();
    await api.createKey('ci', ['operator.read'], 7);
    expect(s.seen[0].headers['x-csrf-token']).toBe('csrf-1');
    expect(s.seen[1].headers['x-csrf-token']).toBe('csrf-1');
    expect(JSON.parse(s.seen[1].body)).toEqual({ label: 'ci', scopes: ['operator.read'], expires_days: 7 });
    expect(s.seen[1].headers.authorization).toBeUndefined();
  });

  it('desktop mode: sends the launch token as a Bearer on every request', async () => {
    const s = await server(() => ({ status: 200, body: { ok: true, sessions: [], total: 0 } }));
    const api = createApi(createHttp({ baseUrl: s.base, token: () => 'launch-xyz' }));
    await api.sessions(50, 100, 'ops');
    expect(s.seen[0].headers.authorization).toBe('Bearer launch-xyz');
    expect(s.seen[0].url).toBe('/api/sessions?limit=50&offset=100&search=ops');
  });

  it('setup sends the one-time token in x-setup-token', async () => {
    const s = await server(() => ({ status: 200, body: { ok: true } }));
    const api = createApi(createHttp({ baseUrl: s.base }));
    await api.setPassword('correct horse battery', 'setup-tok');
    expect(s.seen[0].headers['x-setup-token']).toBe('setup-tok');
    expect(JSON.parse(s.seen[0].body)).toEqual({ password: 'correct horse battery' });
  });
});

describe('HTTP errors', () => {
  it('turns the JSON error body into an ApiError with code, message and Retry-After', async () => {
    const s = await server(() => ({ status: 429, body: { ok: false, error: { code: 'RATE_LIMITED', message: 'try again in 42 s' } }, headers: { 'retry-after': '42' } }));
    const err = await createApi(createHttp({ baseUrl: s.base })).login('x').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 429, code: 'RATE_LIMITED', message: 'try again in 42 s', retryAfter: 42 });
  });

  it('calls onUnauthorized on a 401 (but not for the login request itself)', async () => {
    const s = await server(() => ({ status: 401, body: { ok: false, error: { code: 'UNAUTHORIZED', message: 'sign in' } } }));
    const calls: string[] = [];
    const api = createApi(createHttp({ baseUrl: s.base, onUnauthorized: (e) => calls.push(e.code) }));
    await api.selfCheck().catch(() => undefined);
    await api.login('wrong').catch(() => undefined);
    expect(calls).toEqual(['UNAUTHORIZED']);
  });

  it('reports an unreachable server in words', async () => {
    const err = await createApi(createHttp({ baseUrl: 'http://127.0.0.1:1' })).selfCheck().catch((e) => e);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/cannot reach the server/);
  });
});
