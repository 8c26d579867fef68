/**
 * A tiny scripted gateway on 127.0.0.1:0 speaking the bridge protocol (challenge, connect,
 * hello-ok, req/res, events), so the bridge client is tested over a real WebSocket.
 */
import { WebSocketServer, WebSocket } from 'ws';

export const NodeWebSocket = WebSocket;
import type { AddressInfo } from 'node:net';

export interface Conn {
  ws: WebSocket;
  connectParams: any;
  seq: number;
  event(name: string, payload: unknown, seqOverride?: number): void;
}

export interface FixtureOptions {
  /** Accepts `auth.token` (and `{}` when undefined). */
  token?: string;
  /** Answers a request; return undefined to not answer at all. */
  onRequest?: (conn: Conn, method: string, params: any, reply: (ok: boolean, payload: unknown) => void) => void;
  /** Do not send connect.challenge (handshake timeout test). */
  silent?: boolean;
  tickIntervalMs?: number;
}

export async function startGateway(opts: FixtureOptions = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as AddressInfo).port;
  const conns: Conn[] = [];
  let connectionCount = 0;

  wss.on('connection', (ws) => {
    connectionCount += 1;
    const conn: Conn = {
      ws,
      connectParams: null,
      seq: 0,
      event(name, payload, seqOverride) {
        conn.seq = seqOverride ?? conn.seq + 1;
        ws.send(JSON.stringify({ type: 'event', event: name, payload, seq: conn.seq }));
      },
    };
    conns.push(conn);
    if (!opts.silent) ws.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n-1', ts: Date.now() } }));
    ws.on('message', (raw) => {
      const frame = JSON.parse(String(raw));
      if (frame.method === 'connect') {
        conn.connectParams = frame.params;
        const given = frame.params?.auth?.token;
        if (opts.token !== undefined && given !== opts.token) {
          ws.send(JSON.stringify({ type: 'res', id: frame.id, ok: false, error: { code: 'INVALID_REQUEST', message: 'unauthorized', details: { code: 'AUTH_TOKEN_MISMATCH' } } }));
          ws.close(1008, 'unauthorized');
          return;
        }
        ws.send(JSON.stringify({
          type: 'res', id: frame.id, ok: true,
          payload: { type: 'hello-ok', protocol: 4, server: { version: 'test', connId: `c${connectionCount}` },
            features: { methods: ['health'], events: ['chat'] }, snapshot: { presence: [], health: { ok: true } },
            policy: { maxPayload: 1048576, maxBufferedBytes: 1048576, tickIntervalMs: opts.tickIntervalMs ?? 15000 } },
        }));
        conn.event('tick', { ts: Date.now() });
        return;
      }
      const reply = (ok: boolean, payload: unknown) =>
        ws.send(JSON.stringify(ok ? { type: 'res', id: frame.id, ok, payload } : { type: 'res', id: frame.id, ok, error: payload }));
      if (opts.onRequest) opts.onRequest(conn, frame.method, frame.params, reply);
      else reply(true, { echo: frame.method, params: frame.params });
    });
  });

  return {
    url: `ws://127.0.0.1:${port}/`,
    conns,
    get connectionCount() {
      return connectionCount;
    },
    /** Drops every open connection abruptly (like a crash). */
    dropAll() {
      for (const c of conns) c.ws.terminate();
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
