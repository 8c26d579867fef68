/**
 * Client for the gateway bridge (one WebSocket at `GET /`, protocol 4).
 * Handshake: wait for `connect.challenge`, send `connect`, get hello-ok. Then request/response
 * by id with timeouts, events fanned out to listeners, seq gaps counted, and reconnect with
 * exponential backoff + jitter whenever the socket drops (except after an auth failure or stop()).
 */
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** The subset of the WebSocket API used here (browser WebSocket and the `ws` package both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export interface BridgeOptions {
  url: string;
  /** Launch token or API key for `auth.token`; absent = cookie auth (`auth:{}`). */
  token?: string;
  WebSocketImpl?: WebSocketCtor;
  clientVersion?: string;
  platform?: string;
  requestTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  /** After this many failed attempts in a row the indicator says "offline" (retries go on). */
  offlineAfterAttempts?: number;
}

export interface BridgeErrorShape {
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
  retryable?: boolean;
  retryAfterMs?: number;
}

export class BridgeError extends Error {
  readonly code: string;
  readonly details?: Record<string, unknown>;
  readonly retryable: boolean;
  constructor(code: string, message: string, details?: Record<string, unknown>, retryable = false) {
    super(message);
    this.name = 'BridgeError';
    this.code = code;
    this.details = details;
    this.retryable = retryable;
  }
  static from(e: BridgeErrorShape | undefined): BridgeError {
    return new BridgeError(e?.code ?? 'INTERNAL_ERROR', e?.message ?? 'request failed', e?.details, !!e?.retryable);
  }
}

export interface HelloOk {
  type?: string;
  protocol: number;
  server?: { version?: string; connId?: string };
  features?: { methods?: string[]; events?: string[] };
  snapshot?: { presence?: unknown[]; health?: Record<string, unknown>; uptimeMs?: number };
  auth?: { role?: string; scopes?: string[]; method?: string };
  policy?: { maxPayload?: number; maxBufferedBytes?: number; tickIntervalMs?: number };
}

type EventHandler = (payload: any, frame: { event: string; seq?: number }) => void;
interface Pending {
  resolve: (v: any) => void;
  reject: (e: BridgeError) => void;
  timer: ReturnType<typeof setTimeout>;
}

const AUTH_DETAIL_CODES = new Set(['AUTH_TOKEN_MISMATCH', 'AUTH_TOKEN_MISSING', 'AUTH_RATE_LIMITED']);

export function isAuthFailure(err: BridgeErrorShape | undefined): boolean {
  if (!err) return false;
  if (err.code === 'UNAUTHORIZED' || err.code === 'FORBIDDEN') return true;
  const dc = err.details?.code;
  return typeof dc === 'string' && (AUTH_DETAIL_CODES.has(dc) || dc.startsWith('DEVICE_AUTH'));
}

export class BridgeClient {
  state: ConnectionState = 'idle';
  hello: HelloOk | null = null;
  lastError: string | null = null;
  /** Reconnect attempts since the last successful hello. */
  attempt = 0;
  /** Number of seq gaps observed (logged, never fatal). */
  seqGaps = 0;
  /** Delay chosen for the pending reconnect, for the indicator. */
  nextRetryMs: number | null = null;

  private ws: WebSocketLike | null = null;
  private opts: Required<Omit<BridgeOptions, 'token'>> & { token?: string };
  private nextId = 0;
  private pending = new Map<string, Pending>();
  private handlers = new Map<string, Set<EventHandler>>();
  private stateHandlers = new Set<(s: ConnectionState) => void>();
  private waiters = new Set<() => void>();
  private stopped = true;
  private authFailed = false;
  private connectId: string | null = null;
  private lastSeq = 0;
  private shutdownHintMs = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setTimeout> | null = null;

  constructor(options: BridgeOptions) {
    const Impl = options.WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (!Impl) throw new Error('no WebSocket implementation available: pass options.WebSocketImpl');
    this.opts = {
      WebSocketImpl: Impl,
      clientVersion: '0.1.0',
      platform: typeof navigator !== 'undefined' ? navigator.platform || 'web' : 'node',
      requestTimeoutMs: 15_000,
      handshakeTimeoutMs: 10_000,
      backoff: DEFAULT_BACKOFF,
      random: Math.random,
      offlineAfterAttempts: 5,
      ...options,
    };
  }

  /** Opens the connection (no-op when already running). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.authFailed = false;
    this.attempt = 0;
    this.open();
  }

  /** Closes for good; pending requests fail with UNAVAILABLE. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close(1000, 'client stop');
      } catch {
        /* already closed */
      }
    }
    this.failPending('connection closed by the client');
    this.setState('idle');
  }

  /** Stop then start again, e.g. after a fresh login. */
  restart(token?: string): void {
    this.stop();
    if (token !== undefined) this.opts.token = token;
    this.start();
  }

  /** Reconnect right now, skipping the remaining backoff delay. */
  retryNow(): void {
    if (this.stopped || this.state === 'connected') return;
    this.authFailed = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!this.ws) this.open();
  }

  on(event: string, handler: EventHandler): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler);
    return () => set!.delete(handler);
  }

  onState(handler: (s: ConnectionState) => void): () => void {
    this.stateHandlers.add(handler);
    handler(this.state);
    return () => this.stateHandlers.delete(handler);
  }

  /** Sends a request; waits for the connection first (bounded by the same timeout). */
  async request<T = any>(method: string, params?: unknown, opts: { timeoutMs?: number } = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.opts.requestTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    if (this.state !== 'connected') await this.waitConnected(timeoutMs);
    const ws = this.ws;
    if (!ws) throw new BridgeError('UNAVAILABLE', 'not connected to the gateway');
    const id = `r${++this.nextId}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new BridgeError('UNAVAILABLE', `${method} timed out after ${timeoutMs} ms`, undefined, true));
      }, Math.max(1, deadline - Date.now()));
      this.pending.set(id, { resolve, reject, timer });
      try {
        ws.send(JSON.stringify({ type: 'req', id, method, params: params ?? {} }));
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new BridgeError('UNAVAILABLE', `could not send ${method}: ${String(e)}`, undefined, true));
      }
    });
  }

  /** Resolves when connected; rejects after `timeoutMs` or when the client gives up (auth failure, stop). */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        if (this.state === 'connected') resolve();
        else reject(new BridgeError('UNAVAILABLE', this.lastError ?? 'not connected to the gateway', undefined, true));
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        reject(new BridgeError('UNAVAILABLE', `not connected to the gateway after ${timeoutMs} ms`, undefined, true));
      }, timeoutMs);
      this.waiters.add(done);
    });
  }

  private open(): void {
    this.setState(this.attempt === 0 ? 'connecting' : this.attempt > this.opts.offlineAfterAttempts ? 'offline' : 'reconnecting');
    this.connectId = null;
    this.hello = null;
    let ws: WebSocketLike;
    try {
      ws = new this.opts.WebSocketImpl(this.opts.url);
    } catch (e) {
      this.lastError = `cannot open ${this.opts.url}: ${String(e)}`;
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.handshakeTimer = setTimeout(() => {
      this.lastError = 'handshake timed out';
      try {
        ws.close(4000, 'handshake timeout');
      } catch {
        /* ignore */
      }
      this.onClosed(ws);
    }, this.opts.handshakeTimeoutMs);
    ws.onmessage = (ev) => this.onFrame(ws, ev.data);
    ws.onerror = () => {
      this.lastError = 'connection error';
    };
    ws.onclose = (ev) => {
      if (ev && ev.reason) this.lastError = `closed (${ev.code}): ${ev.reason}`;
      this.onClosed(ws);
    };
  }

  private onFrame(ws: WebSocketLike, data: unknown): void {
    if (ws !== this.ws) return;
    let frame: any;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      return; // not JSON: ignore, the server never sends this
    }
    if (!frame || typeof frame !== 'object') return;
    this.armWatchdog();
    if (frame.type === 'event') {
      if (frame.event === 'connect.challenge') {
        if (this.connectId) return;
        this.connectId = `c${++this.nextId}`;
        const params = {
          minProtocol: 4,
          maxProtocol: 4,
          client: { id: 'microclaw-console', mode: 'ui', version: this.opts.clientVersion, platform: this.opts.platform },
          role: 'operator',
          auth: this.opts.token ? { token: this.opts.token } : {},
        };
        ws.send(JSON.stringify({ type: 'req', id: this.connectId, method: 'connect', params }));
        return;
      }
      if (!this.hello) return;
      if (typeof frame.seq === 'number') {
        if (this.lastSeq && frame.seq !== this.lastSeq + 1) {
          this.seqGaps += 1;
          console.warn(`bridge: event seq gap (expected ${this.lastSeq + 1}, got ${frame.seq})`);
        }
        this.lastSeq = frame.seq;
      }
      if (frame.event === 'shutdown') {
        const ms = Number(frame.payload?.restartExpectedMs);
        this.shutdownHintMs = Number.isFinite(ms) && ms > 0 ? Math.min(ms, 60_000) : 0;
        this.lastError = `gateway shutting down: ${frame.payload?.reason ?? 'no reason given'}`;
      }
      this.emit(frame.event, frame.payload ?? {}, { event: frame.event, seq: frame.seq });
      return;
    }
    if (frame.type === 'res') {
      if (frame.id === this.connectId && !this.hello) {
        this.onHello(ws, frame);
        return;
      }
      const p = this.pending.get(frame.id);
      if (!p) return;
      this.pending.delete(frame.id);
      clearTimeout(p.timer);
      if (frame.ok) p.resolve(frame.payload);
      else p.reject(BridgeError.from(frame.error));
    }
  }

  private onHello(ws: WebSocketLike, frame: any): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    if (!frame.ok) {
      const err = BridgeError.from(frame.error);
      this.lastError = `${err.code}: ${err.message}`;
      if (isAuthFailure(frame.error)) {
        this.authFailed = true;
        this.emit('auth.failed', { code: err.code, message: err.message, details: err.details }, { event: 'auth.failed' });
      }
      try {
        ws.close(1000, 'connect rejected');
      } catch {
        /* ignore */
      }
      this.onClosed(ws);
      return;
    }
    this.hello = frame.payload as HelloOk;
    this.attempt = 0;
    this.lastSeq = 0;
    this.lastError = null;
    this.shutdownHintMs = 0;
    this.nextRetryMs = null;
    this.setState('connected');
    for (const w of [...this.waiters]) w();
    this.emit('hello', this.hello, { event: 'hello' });
  }

  private onClosed(ws: WebSocketLike): void {
    if (ws !== this.ws) return;
    ws.onclose = null;
    ws.onmessage = null;
    this.ws = null;
    this.clearTimers();
    this.failPending('connection closed');
    if (this.stopped) return;
    if (this.authFailed) {
      this.setState('offline');
      for (const w of [...this.waiters]) w();
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = Math.max(backoffDelay(this.attempt, this.opts.backoff, this.opts.random), this.shutdownHintMs);
    this.shutdownHintMs = 0;
    this.attempt += 1;
    this.nextRetryMs = delay;
    this.setState(this.attempt > this.opts.offlineAfterAttempts ? 'offline' : 'reconnecting');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.open();
    }, delay);
  }

  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    const tick = this.hello?.policy?.tickIntervalMs;
    if (!tick || !Number.isFinite(tick) || tick <= 0) return;
    const ws = this.ws;
    // No frame (not even a tick) for 2.5 intervals: the link is dead even if TCP says otherwise.
    this.watchdog = setTimeout(() => {
      if (ws && ws === this.ws) {
        this.lastError = 'no tick from the gateway';
        try {
          ws.close(4001, 'tick timeout');
        } catch {
          /* ignore */
        }
        this.onClosed(ws);
      }
    }, tick * 2.5);
  }

  private failPending(message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new BridgeError('UNAVAILABLE', message, undefined, true));
      this.pending.delete(id);
    }
  }

  private clearTimers(): void {
    for (const t of [this.retryTimer, this.handshakeTimer, this.watchdog]) if (t) clearTimeout(t);
    this.retryTimer = this.handshakeTimer = this.watchdog = null;
  }

  private emit(event: string, payload: unknown, frame: { event: string; seq?: number }): void {
    for (const key of [event, '*']) {
      const set = this.handlers.get(key);
      if (!set) continue;
      for (const h of [...set]) {
        try {
          h(payload, frame);
        } catch (e) {
          console.error(`bridge: handler for ${event} failed`, e);
        }
      }
    }
  }

  private setState(s: ConnectionState): void {
    if (this.state === s) return;
    this.state = s;
    for (const h of [...this.stateHandlers]) h(s);
  }
}

/** ws:// or wss:// URL of the bridge on the page's own origin. */
export function bridgeUrlFor(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/`;
}
