/**
 * Approvals for acting tools and the "now running" view: the pending list kept live from
 * `exec.approval.requested/resolved` (re-read from `exec.approval.list` on every hello, so a
 * reconnect never leaves a stale inbox), the operator's decisions, and small pure helpers the
 * pages and tests share.
 */
import { get, writable, type Readable } from 'svelte/store';

export type Decision = 'allow-once' | 'allow-always' | 'deny';
export const DECISIONS: readonly Decision[] = ['allow-once', 'allow-always', 'deny'];

export interface ApprovalRequest {
  sessionKey: string;
  agentId: string;
  runId: string;
  tool: string;
  command: string;
  cwd: string;
}

export interface ApprovalRecord {
  id: string;
  request: ApprovalRequest;
  createdAtMs: number;
  expiresAtMs: number;
  status?: string;
}

export interface ResolvedPayload {
  id: string;
  decision: Decision | null;
  resolvedBy: string | null;
  resolvedAtMs: number | null;
  status?: string;
  reason?: string | null;
  request?: ApprovalRequest;
}

export interface TerminalApproval extends ResolvedPayload {
  createdAtMs: number;
  expiresAtMs: number;
}

export interface ActiveRun {
  runId: string;
  sessionKey: string;
  agentId: string;
  startedAtMs: number;
  elapsedMs: number;
  tool: string | null;
  waitingForApproval: boolean;
  waitingApprovalId: string | null;
  /** Present when the run snapshot exposes live usage. */
  tokens?: number | null;
}

/** The part of the bridge client these functions use (the real `BridgeClient` fits). */
export interface BridgeLike {
  request<T = any>(method: string, params?: unknown): Promise<T>;
  on(event: string, handler: (payload: any) => void): () => void;
}

/** Adds (or replaces) a pending record, oldest first. */
export function withRequested(list: ApprovalRecord[], rec: ApprovalRecord): ApprovalRecord[] {
  if (!rec || typeof rec.id !== 'string') return list;
  const rest = list.filter((a) => a.id !== rec.id);
  return [...rest, rec].sort((a, b) => a.createdAtMs - b.createdAtMs);
}

/** Drops a settled approval. */
export function withResolved(list: ApprovalRecord[], payload: { id?: string } | null | undefined): ApprovalRecord[] {
  const id = payload?.id;
  return id ? list.filter((a) => a.id !== id) : list;
}

/** "12m 05s left", "45s left", or "expired". */
export function timeLeft(expiresAtMs: number, now: number): string {
  const ms = expiresAtMs - now;
  if (!Number.isFinite(ms) || ms <= 0) return 'expired';
  const s = Math.ceil(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m left`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s left`;
  return `${sec}s left`;
}

/** "3.2 s", "4m 10s", "1h 02m" for a run's elapsed time. */
export function elapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(s % 60).padStart(2, '0')}s`;
}

/** How a settled approval reads in the history. */
export function outcomeText(a: { status?: string; decision?: string | null; reason?: string | null }): string {
  switch (a.status) {
    case 'allowed':
      return a.decision === 'allow-always' ? 'allowed always' : 'allowed once';
    case 'expired':
      return a.reason === 'run-aborted' ? 'cancelled (run stopped)' : 'expired (denied)';
    case 'denied':
      return a.reason === 'gateway-restart' ? 'denied (gateway restarted)' : 'denied';
    default:
      return a.status ?? 'unknown';
  }
}

const pendingStore = writable<ApprovalRecord[]>([]);
/** Pending approvals, oldest first. */
export const pendingApprovals: Readable<ApprovalRecord[]> = { subscribe: pendingStore.subscribe };
/** Bumped on every settled approval (history and "now running" refresh). */
export const approvalsVersion = writable(0);
/** The newest approval that arrived while this page was open (the overlay shows it). */
export const arrived = writable<ApprovalRecord | null>(null);

let wired: BridgeLike | null = null;

/** Re-reads the pending list. */
export async function refreshPending(bridge: BridgeLike): Promise<void> {
  const list = await bridge.request<ApprovalRecord[]>('exec.approval.list', {});
  pendingStore.set(Array.isArray(list) ? [...list].sort((a, b) => a.createdAtMs - b.createdAtMs) : []);
}

/** Subscribes once per bridge client: events keep the list current, each hello re-reads it. */
export function wireApprovals(bridge: BridgeLike): void {
  if (wired === bridge) return;
  wired = bridge;
  bridge.on('exec.approval.requested', (rec: ApprovalRecord) => {
    pendingStore.update((l) => withRequested(l, rec));
    arrived.set(rec);
  });
  bridge.on('exec.approval.resolved', (p: ResolvedPayload) => {
    pendingStore.update((l) => withResolved(l, p));
    if (get(arrived)?.id === p?.id) arrived.set(null);
    approvalsVersion.update((n) => n + 1);
  });
  bridge.on('hello', () => {
    refreshPending(bridge).catch(() => pendingStore.set([]));
  });
  refreshPending(bridge).catch(() => undefined);
}

/** Sends the operator's decision; the list updates from the `resolved` event (and now). */
export async function resolveApproval(bridge: BridgeLike, id: string, decision: Decision, reason?: string): Promise<void> {
  await bridge.request('exec.approval.resolve', reason ? { id, decision, reason } : { id, decision });
  pendingStore.update((l) => withResolved(l, { id }));
  if (get(arrived)?.id === id) arrived.set(null);
}

/** One page of `approval.history`. */
export async function loadHistory(
  bridge: BridgeLike,
  cursor?: string,
  limit = 25,
): Promise<{ items: TerminalApproval[]; nextCursor?: string }> {
  const res = await bridge.request<{ items?: TerminalApproval[]; nextCursor?: string }>(
    'approval.history',
    cursor ? { cursor, limit } : { limit },
  );
  return { items: res?.items ?? [], nextCursor: res?.nextCursor };
}

/** Every active run (`runs.active`). */
export async function loadActiveRuns(bridge: BridgeLike): Promise<ActiveRun[]> {
  const res = await bridge.request<{ runs?: ActiveRun[] }>('runs.active', {});
  return res?.runs ?? [];
}

/** Stops a run (`sessions.abort {runId}`); true when a run was aborted. */
export async function killRun(bridge: BridgeLike, runId: string): Promise<boolean> {
  const res = await bridge.request<{ status?: string }>('sessions.abort', { runId });
  return res?.status === 'aborted';
}

/** Test hook: forget the wiring and the lists. */
export function resetApprovalsForTests(): void {
  wired = null;
  pendingStore.set([]);
  arrived.set(null);
  approvalsVersion.set(0);
}
