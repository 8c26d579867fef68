import { afterEach, describe, expect, it } from 'vitest';
import { BridgeClient, BridgeError, bridgeUrlFor, type WebSocketCtor } from '../src/lib/bridge';
import { NodeWebSocket, startGateway, until } from './gateway-fixture';

const WS = NodeWebSocket as unknown as WebSocketCtor;
const fast = { baseMs: 20, maxMs: 100, factor: 2, jitter: 0.5 };
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function setup(fixture: Parameters<typeof startGateway>[0] = {}, client: Partial<ConstructorParameters<typeof BridgeClient>[0]> = {}) {
  const gw = await startGateway(fixture);
  const bridge = new BridgeClient({ url: gw.url, WebSocketImpl: WS, backoff: fast, requestTimeoutMs: 2000, ...client });
  cleanup.push(() => gw.close(), () => bridge.stop());
  return { gw, bridge };
}

describe('bridge handshake', () => {
  it('answers the challenge with a protocol-4 operator connect and cookie auth when no token is given', async () => {
    const { gw, bridge } = await setup();
    const states: string[] = [];
    bridge.onState((s) => states.push(s));
    bridge.start();
    await bridge.waitConnected(3000);
    const p = gw.conns[0].connectParams;
    expect(p.minProtocol).toBe(4);
    expect(p.maxProtocol).toBe(4);
    expect(p.client).toMatchObject({ id: 'microclaw-console', mode: 'ui' });
    expect(typeof p.client.version).toBe('string');
    expect(p.role).toBe('operator');
    expect(p.auth).toEqual({}); // the browser's cookie rides on the upgrade
    expect(bridge.hello?.protocol).toBe(4);
    expect(states).toEqual(['idle', 'connecting', 'connected']);
  });

  it('sends the launch token as auth.token', async () => {
    const { gw, bridge } = await setup({ token: 'launch-123' }, { token: 'launch-123' });
    bridge.start();
    await bridge.waitConnected(3000);
    expect(gw.conns[0].connectParams.auth).toEqual({ token: 'launch-123' });
  });

  it('goes offline and stops retrying when the token is rejected', async () => {
    const { gw, bridge } = await setup({ token: 'right' }, { token: 'wrong' });
    const failures: any[] = [];
    bridge.on('auth.failed', (p) => failures.push(p));
    bridge.start();
    await until(() => bridge.state === 'offline', 3000, 'offline');
    await new Promise((r) => setTimeout(r, 300)); // several backoff periods
    expect(gw.connectionCount).toBe(1);
    expect(failures[0].details.code).toBe('AUTH_TOKEN_MISMATCH');
    await expect(bridge.request('health', {}, { timeoutMs: 100 })).rejects.toBeInstanceOf(BridgeError);
  });

  it('retries when the server never sends a challenge (handshake timeout)', async () => {
    const { gw, bridge } = await setup({ silent: true }, { handshakeTimeoutMs: 100 });
    bridge.start();
    await until(() => gw.connectionCount >= 2, 3000, 'second attempt');
    expect(bridge.state === 'reconnecting' || bridge.state === 'connecting').toBe(true);
  });
});

describe('bridge requests', () => {
  it('matches responses to requests by id even when they come back out of order', async () => {
    const { bridge } = await setup({
      onRequest: (_c, method, params, reply) => setTimeout(() => reply(true, { method, n: params.n }), method === 'slow' ? 150 : 0),
    });
    bridge.start();
    const [a, b] = await Promise.all([bridge.request('slow', { n: 1 }), bridge.request('fast', { n: 2 })]);
    expect(a).toEqual({ method: 'slow', n: 1 });
    expect(b).toEqual({ method: 'fast', n: 2 });
  });

  it('turns an error response into a BridgeError with its code and details', async () => {
    const { bridge } = await setup({
      onRequest: (_c, _m, _p, reply) => reply(false, { code: 'FORBIDDEN', message: 'missing scope', details: { code: 'MISSING_SCOPE', missingScope: 'operator.write' } }),
    });
    bridge.start();
    const err = await bridge.request('chat.send', { message: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(BridgeError);
    expect(err.code).toBe('FORBIDDEN');
    expect(err.details.missingScope).toBe('operator.write');
  });

  it('times out a request the server never answers', async () => {
    const { bridge } = await setup({ onRequest: () => undefined });
    bridge.start();
    await bridge.waitConnected(3000);
    const t0 = Date.now();
    const err = await bridge.request('health', {}, { timeoutMs: 150 }).catch((e) => e);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toMatch(/timed out/);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('a request made before the connection is up waits for it', async () => {
    const { bridge } = await setup();
    const pending = bridge.request('health');
    bridge.start();
    await expect(pending).resolves.toEqual({ echo: 'health', params: {} });
  });
});

describe('bridge events and reconnect', () => {
  it('delivers events to listeners and counts seq gaps', async () => {
    const { gw, bridge } = await setup();
    const chats: any[] = [];
    bridge.on('chat', (p) => chats.push(p));
    bridge.start();
    await bridge.waitConnected(3000);
    const conn = gw.conns[0];
    conn.event('chat', { runId: 'r1', seq: 1, state: 'delta', deltaText: 'a' });
    conn.event('chat', { runId: 'r1', seq: 2, state: 'final', message: 'a' }, conn.seq + 3); // skips 2 seqs
    await until(() => chats.length === 2, 2000, 'two chat events');
    expect(chats.map((c) => c.state)).toEqual(['delta', 'final']);
    expect(bridge.seqGaps).toBe(1);
  });

  it('reconnects with backoff after the socket drops, failing requests in flight', async () => {
    const { gw, bridge } = await setup({ onRequest: () => undefined });
    const states: string[] = [];
    bridge.onState((s) => states.push(s));
    bridge.start();
    await bridge.waitConnected(3000);
    const inflight = bridge.request('never', {}, { timeoutMs: 3000 }).catch((e) => e);
    await until(() => gw.conns.length === 1, 1000);
    gw.dropAll();
    const err = await inflight;
    expect(err.code).toBe('UNAVAILABLE');
    await until(() => gw.connectionCount === 2 && bridge.state === 'connected', 3000, 'reconnected');
    expect(states).toContain('reconnecting');
    expect(bridge.attempt).toBe(0); // reset after a successful hello
  });

  it('declares the link dead when ticks stop arriving', async () => {
    const { gw, bridge } = await setup({ tickIntervalMs: 60 });
    bridge.start();
    await bridge.waitConnected(3000);
    // The fixture sends only the first tick: after 2.5 intervals the client must reconnect.
    await until(() => gw.connectionCount >= 2, 3000, 'reconnect after missing ticks');
  });

  it('stop() closes for good', async () => {
    const { gw, bridge } = await setup();
    bridge.start();
    await bridge.waitConnected(3000);
    bridge.stop();
    expect(bridge.state).toBe('idle');
    await new Promise((r) => setTimeout(r, 250));
    expect(gw.connectionCount).toBe(1);
  });

  it('builds the bridge URL from the page origin', () => {
    expect(bridgeUrlFor({ protocol: 'http:', host: '127.0.0.1:10961' })).toBe('ws://127.0.0.1:10961/');
    expect(bridgeUrlFor({ protocol: 'https:', host: 'ops.example' })).toBe('wss://ops.example/');
  });
});
