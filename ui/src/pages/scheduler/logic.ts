/**
 * The Scheduler page's pure parts: how a schedule reads, the Add/Edit form's state and the body it
 * sends, the preview query for what is typed, and a debouncer for the preview calls.
 */
import type { CronJob, CronSchedule } from '../../lib/api';

export type Kind = 'cron' | 'every' | 'at';
export type EveryUnit = 's' | 'm' | 'h' | 'd';
const UNIT_MS: Record<EveryUnit, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export interface JobForm {
  name: string;
  kind: Kind;
  expr: string;
  tz: string;
  every: string;
  unit: EveryUnit;
  /** `datetime-local` value (local time, `YYYY-MM-DDTHH:mm`) or an ISO-8601 string. */
  at: string;
  message: string;
  /** Empty: a new session per run (`sessionTarget: "isolated"`). */
  sessionKey: string;
  maxAttempts: string;
  backoffSeconds: string;
  timeoutSeconds: string;
  catchUp: 'once' | 'skip' | 'all';
  enabled: boolean;
}

export function emptyForm(): JobForm {
  return {
    name: '', kind: 'cron', expr: '0 9 * * *', tz: 'UTC', every: '5', unit: 'm', at: '', message: '',
    sessionKey: 'main', maxAttempts: '3', backoffSeconds: '', timeoutSeconds: '', catchUp: 'once', enabled: true,
  };
}

/** The form for editing `job` (the largest unit that divides an `every` interval exactly). */
export function formFromJob(job: CronJob): JobForm {
  const f = emptyForm();
  f.name = job.name ?? '';
  f.kind = job.schedule.kind;
  f.enabled = job.enabled;
  const s = job.schedule;
  if (s.kind === 'cron') {
    f.expr = s.expr;
    f.tz = s.tz ?? 'UTC';
  } else if (s.kind === 'every') {
    const unit = (['d', 'h', 'm', 's'] as EveryUnit[]).find((u) => s.everyMs % UNIT_MS[u] === 0) ?? 's';
    f.unit = unit;
    f.every = String(s.everyMs / UNIT_MS[unit]);
  } else {
    const ms = s.atMs ?? (s.at ? Date.parse(s.at) : NaN);
    f.at = Number.isFinite(ms) ? toLocalInput(ms) : (s.at ?? '');
  }
  f.message = job.payload?.message ?? '';
  f.sessionKey = job.sessionKey ?? '';
  f.maxAttempts = String(job.retry?.maxAttempts ?? 3);
  f.backoffSeconds = job.retry?.backoffMs ? String(job.retry.backoffMs / 1000) : '';
  f.timeoutSeconds = job.payload?.timeoutSeconds ? String(job.payload.timeoutSeconds) : '';
  f.catchUp = (job.catchUp as JobForm['catchUp']) ?? 'once';
  return f;
}

/** `ms` as a `datetime-local` value in this browser's zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The schedule the form describes, or the reason it cannot be sent yet. */
export function scheduleOf(f: JobForm): { schedule?: CronSchedule; error?: string } {
  if (f.kind === 'cron') {
    const expr = f.expr.trim().replace(/\s+/g, ' ');
    if (!expr) return { error: 'expression: required (5 or 6 fields, e.g. "0 9 * * 1-5")' };
    return { schedule: { kind: 'cron', expr, ...(f.tz.trim() ? { tz: f.tz.trim() } : {}) } };
  }
  if (f.kind === 'every') {
    const n = Number(f.every);
    if (!f.every.trim() || !Number.isFinite(n) || n <= 0) return { error: 'every: expected a number greater than 0' };
    const everyMs = Math.round(n * UNIT_MS[f.unit]);
    if (everyMs < 1000) return { error: 'every: at least 1 second' };
    return { schedule: { kind: 'every', everyMs } };
  }
  if (!f.at.trim()) return { error: 'at: pick a date and time' };
  const ms = Date.parse(f.at);
  if (!Number.isFinite(ms)) return { error: `at: "${f.at}" is not a date and time` };
  return { schedule: { kind: 'at', at: new Date(ms).toISOString() } };
}

/** Query parameters for `GET /api/scheduler/preview` (null when the form has no schedule yet). */
export function previewParams(f: JobForm): Record<string, string | number> | null {
  const { schedule } = scheduleOf(f);
  if (!schedule) return null;
  if (schedule.kind === 'cron') return { kind: 'cron', expr: schedule.expr, ...(schedule.tz ? { tz: schedule.tz } : {}) };
  if (schedule.kind === 'every') return { kind: 'every', everyMs: schedule.everyMs };
  return { kind: 'at', at: schedule.at ?? '' };
}

function optInt(v: string, what: string, lo: number, hi: number): number | undefined {
  if (!v.trim()) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`${what}: expected a whole number ${lo}..${hi}`);
  return n;
}

/** The `cron.add` body (also sent as the `cron.update` patch); throws naming the bad field. */
export function jobBody(f: JobForm): Record<string, unknown> {
  const { schedule, error } = scheduleOf(f);
  if (!schedule) throw new Error(error);
  const message = f.message.trim();
  if (!message) throw new Error('message: required (what the job sends to the session)');
  const maxAttempts = optInt(f.maxAttempts, 'max attempts', 1, 10) ?? 3;
  const backoff = optInt(f.backoffSeconds, 'first retry delay (s)', 1, 86_400);
  const timeout = optInt(f.timeoutSeconds, 'timeout (s)', 1, 86_400);
  const key = f.sessionKey.trim();
  return {
    name: f.name.trim() || undefined,
    schedule,
    payload: { kind: 'agentTurn', message, ...(timeout ? { timeoutSeconds: timeout } : {}) },
    ...(key ? { sessionKey: key } : { sessionTarget: 'isolated', sessionKey: null }),
    retry: { maxAttempts, ...(backoff ? { backoffMs: backoff * 1000 } : {}) },
    catchUp: f.catchUp,
    enabled: f.enabled,
  };
}

/** How a schedule reads in the jobs list. */
export function describeSchedule(s: CronSchedule | undefined): string {
  if (!s) return '—';
  if (s.kind === 'cron') return `cron ${s.expr}${s.tz && s.tz !== 'UTC' ? ` (${s.tz})` : ' (UTC)'}`;
  if (s.kind === 'every') return `every ${everyText(s.everyMs)}`;
  const ms = s.atMs ?? (s.at ? Date.parse(s.at) : NaN);
  return `at ${Number.isFinite(ms) ? new Date(ms).toLocaleString() : (s.at ?? '?')}`;
}

export function everyText(ms: number): string {
  for (const [u, name] of [['d', 'day'], ['h', 'hour'], ['m', 'minute'], ['s', 'second']] as const) {
    const n = ms / UNIT_MS[u];
    if (Number.isInteger(n)) return n === 1 ? `1 ${name}` : `${n} ${name}s`;
  }
  return `${ms} ms`;
}

/** Calls `fn` once `waitMs` after the last `schedule()`; `cancel()` drops a pending call. */
export function debouncer(waitMs: number) {
  let t: ReturnType<typeof setTimeout> | undefined;
  return {
    schedule(fn: () => void) {
      clearTimeout(t);
      t = setTimeout(fn, waitMs);
    },
    cancel() {
      clearTimeout(t);
      t = undefined;
    },
  };
}
