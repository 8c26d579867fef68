/**
 * The operator HTTP API (same origin). Adds `Authorization: Bearer` in desktop mode, or
 * `x-csrf-token` from the `mc_csrf` cookie in browser mode (writes and admin reads need it), and turns
 * every `{ok:false,error:{code,message}}` body into an ApiError.
 */
import { readCookie } from './credentials';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfter?: number;
  constructor(status: number, code: string, message: string, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export interface ApiOptions {
  baseUrl?: string;
  token?: () => string | undefined;
  fetchImpl?: typeof fetch;
  cookies?: () => string;
  /** Called on 401 so the app can send the user to the login page. */
  onUnauthorized?: (err: ApiError) => void;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Return the raw Response (exports) instead of parsed JSON. */
  raw?: boolean;
  /** Do not call onUnauthorized (login itself, status probes). */
  quiet401?: boolean;
}

export function createHttp(opts: ApiOptions = {}) {
  const base = opts.baseUrl ?? '';
  const doFetch = opts.fetchImpl ?? ((...a: Parameters<typeof fetch>) => fetch(...a));

  async function request<T = any>(method: string, path: string, body?: unknown, ro: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...ro.headers };
    const token = opts.token?.();
    if (token) headers.authorization = `Bearer ${token}`;
    else {
      // Sent on every request, reads included: admin-scoped GETs (API key list, audit) need it too.
      const csrf = readCookie('mc_csrf', opts.cookies?.());
      if (csrf) headers['x-csrf-token'] = csrf;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
      });
    } catch (e) {
      throw new ApiError(0, 'UNAVAILABLE', `cannot reach the server (${String(e)}); is microclaw running?`);
    }
    if (!res.ok) {
      const err = await errorFrom(res);
      if (res.status === 401 && !ro.quiet401) opts.onUnauthorized?.(err);
      throw err;
    }
    if (ro.raw) return res as unknown as T;
    const text = await res.text();
    if (!text) return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, 'INTERNAL_ERROR', `the server sent a non-JSON reply to ${method} ${path}`);
    }
  }

  return {
    request,
    get: <T = any>(path: string, ro?: RequestOptions) => request<T>('GET', path, undefined, ro),
    post: <T = any>(path: string, body: unknown = {}, ro?: RequestOptions) => request<T>('POST', path, body, ro),
    del: <T = any>(path: string, ro?: RequestOptions) => request<T>('DELETE', path, undefined, ro),
  };
}

async function errorFrom(res: Response): Promise<ApiError> {
  const retry = Number(res.headers.get('retry-after'));
  let code = statusCode(res.status);
  let message = `${res.status} ${res.statusText || 'error'}`;
  try {
    const body = await res.json();
    if (body?.error?.code) code = String(body.error.code);
    if (body?.error?.message) message = String(body.error.message);
  } catch {
    /* non-JSON error body: keep the status text */
  }
  return new ApiError(res.status, code, message, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

function statusCode(status: number): string {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 500) return 'INTERNAL_ERROR';
  return 'INVALID_REQUEST';
}

export type Http = ReturnType<typeof createHttp>;

// Usage, cost and budgets (the Cost page): `/api/usage`, `/api/budgets`.
export { createCostApi, type CostApi } from './cost';

const q = (params: Record<string, string | number | undefined | null>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const out = s.toString();
  return out ? `?${out}` : '';
};

export interface ApiKey {
  id: number;
  label: string;
  prefix: string;
  scopes: string[];
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  rotated_from_key_id: number | null;
}
export interface CreatedKey {
  id: number;
  api_key: string;
  prefix: string;
  scopes: string[];
  expires_at: number | null;
}
/** A device waiting for approval (`GET /api/devices` `pending[]`). */
export interface PendingDevice {
  requestId: string;
  deviceId: string;
  displayName?: string;
  platform?: string;
  clientId?: string;
  remoteIp?: string;
  scopes: string[];
  ts: number;
  expiresAtMs: number;
}
/** A paired device (`paired[]`). */
export interface PairedDevice {
  deviceId: string;
  displayName?: string;
  operatorLabel?: string;
  platform?: string;
  clientId?: string;
  remoteIp?: string;
  scopes: string[];
  approvedVia?: string;
  createdAtMs: number;
  approvedAtMs: number;
  lastSeenAtMs?: number;
  revokedAtMs?: number;
  connected?: boolean;
}
export interface TreeNodeDto {
  session_key: string;
  parent_session_key: string | null;
  fork_point: number | null;
  label: string | null;
  created_at: number;
  updated_at: number;
  message_count: number;
}
export interface SelfCheckWarning {
  code: string;
  severity: 'high' | 'medium' | 'low';
  message: string;
  fix: string;
}
export interface AuditEntry {
  id: number;
  ts: number;
  kind: string;
  actor: string | null;
  target: string | null;
  detail: unknown;
  prev_hash: string | null;
  entry_hash: string | null;
}
/** `GET /api/logs`: lines `<RFC 3339 ts> <LEVEL> <target>: <message>`; `cursor` = the next line number. */
export interface LogsTail {
  file: string;
  cursor: number;
  size: number;
  lines: string[];
  truncated: boolean;
  reset: boolean;
}
export type { ColumnsResponse } from './timeseries';
import type { ColumnsResponse } from './timeseries';
export type ExportFormat = 'json' | 'csv' | 'svg' | 'png' | 'html';
export type SessionExportFormat = 'md' | 'json';
/** `GET /api/audit/verify`. */
export interface AuditVerify {
  intact: boolean;
  verified?: number;
  reason?: string;
}

/** Typed endpoints of the operator API. */
export function createApi(http: Http) {
  return {
    http,
    authStatus: () =>
      http.get<{ authenticated: boolean; has_password: boolean; setup_required: boolean }>('/api/auth/status', { quiet401: true }),
    login: (password: string) => http.post('/api/auth/login', { password, label: 'web console' }, { quiet401: true }),
    logout: () => http.post('/api/auth/logout', {}, { quiet401: true }),
    setPassword: (password: string, setupToken?: string) =>
      http.post('/api/auth/password', { password }, setupToken ? { headers: { 'x-setup-token': setupToken }, quiet401: true } : {}),
    /** Changing a set password needs the current one (a wrong one answers 401, kept quiet: the form shows it). */
    changePassword: (currentPassword: string, password: string) =>
      http.post('/api/auth/password', { password, current_password: currentPassword }, { quiet401: true }),
    listKeys: () => http.get<{ keys: ApiKey[] }>('/api/auth/api_keys'),
    createKey: (label: string, scopes: string[], expiresDays?: number) =>
      http.post<CreatedKey>('/api/auth/api_keys', { label, scopes, ...(expiresDays ? { expires_days: expiresDays } : {}) }),
    revokeKey: (id: number) => http.del<{ revoked: boolean }>(`/api/auth/api_keys/${encodeURIComponent(id)}`),
    rotateKey: (id: number) => http.post<CreatedKey>(`/api/auth/api_keys/${encodeURIComponent(id)}/rotate`, {}),
    listDevices: () => http.get<{ pending: PendingDevice[]; paired: PairedDevice[] }>('/api/devices'),
    approveDevice: (requestId: string) =>
      http.post<{ requestId: string; device: PairedDevice }>(`/api/devices/requests/${encodeURIComponent(requestId)}/approve`, {}),
    rejectDevice: (requestId: string) =>
      http.post<{ requestId: string; deviceId: string }>(`/api/devices/requests/${encodeURIComponent(requestId)}/reject`, {}),
    removeDevice: (deviceId: string) => http.post<{ deviceId: string }>(`/api/devices/${encodeURIComponent(deviceId)}/remove`, {}),
    renameDevice: (deviceId: string, label: string) =>
      http.post<{ deviceId: string; label: string }>(`/api/devices/${encodeURIComponent(deviceId)}/rename`, { label }),
    sessions: (limit: number, offset: number, search?: string) =>
      http.get<{ sessions: any[]; total: number }>(`/api/sessions${q({ limit, offset, search })}`),
    tree: (limit = 1000) => http.get<{ nodes: TreeNodeDto[] }>(`/api/sessions/tree${q({ limit })}`),
    fork: (source: string, forkPoint?: number, target?: string) =>
      http.post<{ target_session_key: string; fork_point: number }>('/api/sessions/fork', {
        source_session_key: source,
        ...(forkPoint !== undefined ? { fork_point: forkPoint } : {}),
        ...(target ? { target_session_key: target } : {}),
      }),
    deleteSession: (key: string) => http.post<{ deleted: boolean }>('/api/delete_session', { session_key: key }),
    resetSession: (key: string) => http.post('/api/reset', { session_key: key }),
    sessionSettings: (key: string, patch: Record<string, string | null>) =>
      http.post('/api/sessions/settings', { session_key: key, ...patch }),
    metricsHistory: (minutes: number, step: number) =>
      http.get<{ points: Record<string, number>[]; step_seconds: number }>(`/api/metrics/history${q({ minutes, step, limit: 2000 })}`),
    metricsSummary: () => http.get<any>('/api/metrics/summary'),
    /** uPlot's layout: `null` for steps without data; the server picks the step within `limit`. */
    metricsColumns: (minutes: number, limit: number) =>
      http.get<ColumnsResponse>(`/api/metrics/history${q({ minutes, limit, format: 'columns' })}`),
    /** Counters since start, with `http_requests_by_route` and `bridge_requests_by_method`. */
    metricsSnapshot: () => http.get<{ metrics: Record<string, any> }>('/api/metrics'),
    health: () => http.get<Record<string, any>>('/api/health', { quiet401: true }),
    audit: (limit: number, kind?: string) => http.get<{ entries: AuditEntry[] }>(`/api/audit${q({ limit, kind })}`),
    /** The hash chain's check (`microclaw audit verify`): intact with the rows verified, or the reason it broke. */
    auditVerify: () => http.get<AuditVerify>('/api/audit/verify'),
    /** A session's transcript as a file (raw Response; `Content-Disposition` names it). */
    sessionExport: (key: string, format: SessionExportFormat) =>
      http.get<Response>(`/api/sessions/export${q({ session_key: key, format })}`, { raw: true, headers: { accept: '*/*' } }),
    logs: (cursor: number | undefined, limit: number, maxBytes?: number) =>
      http.get<LogsTail>(`/api/logs${q({ cursor, limit, maxBytes })}`),
    selfCheck: () => http.get<{ risk_level: string; warnings: SelfCheckWarning[]; checked_at: number }>('/api/config/self_check'),
    exportFile: (format: ExportFormat, minutes: number) =>
      http.get<Response>(`/api/metrics/export${q({ format, minutes })}`, { raw: true, headers: { accept: '*/*' } }),
  };
}
export type Api = ReturnType<typeof createApi>;

/** A gateway row of `GET /api/gateways` (fleet; the token is never in it). */
export interface FleetGateway {
  id: number | 'local';
  name: string;
  url: string | null;
  kind: 'openclaw' | 'microclaw' | 'console' | null;
  local: boolean;
  status: 'up' | 'down' | 'auth_failed' | 'unknown';
  latencyMs: number | null;
  version: string | null;
  protocol: number | null;
  sessionCount: number | null;
  lastCheckedAt: number | null;
  lastError: string | null;
  downProbes?: number;
  tokenStore?: 'keychain' | 'file';
}
export interface FleetProbe {
  at: number;
  status: string;
  latencyMs: number | null;
  error: string | null;
}

/** The fleet endpoints (`/api/gateways`): list, add, change, remove, probe, history, forward one call. */
export function fleetApi(http: Http) {
  const path = (id: number) => `/api/gateways/${encodeURIComponent(id)}`;
  return {
    list: () => http.get<{ gateways: FleetGateway[]; tokenStore: string }>('/api/gateways'),
    add: (name: string, url: string, token: string) => http.post<FleetGateway>('/api/gateways', { name, url, token }),
    update: (id: number, patch: { name?: string; url?: string; token?: string }) =>
      http.request<FleetGateway>('PATCH', path(id), patch),
    remove: (id: number) => http.del<{ removed: boolean }>(path(id)),
    probe: (id: number) => http.post<FleetGateway>(`${path(id)}/probe`, {}),
    history: (id: number, limit = 60) => http.get<{ history: FleetProbe[] }>(`${path(id)}/history${q({ limit })}`),
    /** Forwards one bridge call (read methods need read; anything else admin). */
    call: <T = any>(id: number, method: string, params: Record<string, unknown> = {}) =>
      http.post<{ ok: true; payload: T }>(`${path(id)}/call`, { method, params }).then((r) => r.payload),
  };
}

/** A schedule as the scheduler stores it (`docs/scheduler.md`). */
export type CronSchedule =
  | { kind: 'cron'; expr: string; tz?: string }
  | { kind: 'every'; everyMs: number; anchorMs?: number }
  | { kind: 'at'; at?: string; atMs?: number };
/** A job as `GET /api/scheduler/jobs` lists it (OpenClaw's `cron.list` shape). */
export interface CronJob {
  id: string;
  name?: string;
  enabled: boolean;
  schedule: CronSchedule;
  payload?: { kind: string; message?: string; timeoutSeconds?: number };
  sessionKey?: string | null;
  sessionTarget?: string;
  retry?: { maxAttempts?: number; backoffMs?: number };
  catchUp?: string;
  deleteAfterRun?: boolean;
  nextRunAtMs?: number | null;
  lastRunStatus?: string | null;
  configRevision?: string;
  state?: Record<string, any>;
  error?: string;
}
/** One attempt of a job (`GET /api/scheduler/runs` `entries[]`). */
export interface CronRun {
  ts: number;
  jobId: string;
  action: string;
  status?: string;
  error?: string;
  runId?: string | null;
  sessionKey?: string | null;
  runAtMs?: number;
  dueAtMs?: number;
  durationMs?: number | null;
  attempt?: number;
  trigger?: string;
}
/** A dead-lettered run (`GET /api/scheduler/dlq` `items[]`). */
export interface DlqItem {
  id: string;
  jobId: string;
  runId?: string | null;
  error: string;
  attempts: number;
  failedAtMs: number;
  dueAtMs: number;
  status: string;
  resolvedAtMs?: number | null;
}
export interface CronPreview {
  nextRunsAtMs: number[];
  nextRuns: string[];
}

/** `/api/scheduler/…` (reads need operator.read; changes, runs, replay and discard need admin). */
export function createSchedulerApi(http: Http) {
  const job = (id: string) => `/api/scheduler/jobs/${encodeURIComponent(id)}`;
  const dlq = (id: string) => `/api/scheduler/dlq/${encodeURIComponent(id)}`;
  return {
    jobs: () => http.get<{ jobs: CronJob[]; total: number }>('/api/scheduler/jobs?enabled=all&limit=200'),
    status: () => http.get<{ enabled: boolean; jobs: number; nextWakeAtMs: number | null; running: number }>('/api/scheduler/status'),
    addJob: (body: Record<string, unknown>) => http.post<CronJob>('/api/scheduler/jobs', body),
    updateJob: (id: string, patch: Record<string, unknown>) => http.request<CronJob>('PATCH', job(id), patch),
    removeJob: (id: string) => http.del<{ removed: boolean }>(job(id)),
    runJob: (id: string) => http.post<{ ran?: boolean; enqueued?: boolean; reason?: string }>(`${job(id)}/run`, { mode: 'force' }),
    runs: (jobId: string, limit = 50) => http.get<{ entries: CronRun[]; total: number }>(`/api/scheduler/runs${q({ jobId, limit })}`),
    /** Next fire times of `{expr, tz}` or `{kind:'every', everyMs}` / `{kind:'at', at}`. */
    preview: (params: Record<string, string | number | undefined>, count = 5) =>
      http.get<CronPreview>(`/api/scheduler/preview${q({ ...params, count })}`),
    dlq: (includeResolved = false) =>
      http.get<{ items: DlqItem[] }>(`/api/scheduler/dlq${includeResolved ? '?includeResolved=true' : ''}`),
    replay: (id: string) => http.post<{ replayed: boolean; runId?: string }>(`${dlq(id)}/replay`, {}),
    discard: (id: string) => http.post<{ discarded: boolean }>(`${dlq(id)}/discard`, {}),
  };
}
export type SchedulerApi = ReturnType<typeof createSchedulerApi>;
