import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { get } from 'svelte/store';
import { BridgeClient, type WebSocketCtor } from '../src/lib/bridge';
import {
  approvalsVersion, arrived, elapsed, killRun, loadActiveRuns, outcomeText, pendingApprovals, resetApprovalsForTests,
  resolveApproval, timeLeft, withRequested, withResolved, wireApprovals, type ApprovalRecord,
} from '../src/lib/approvals';
import { NodeWebSocket, startGateway, until } from './gateway-fixture';

const WS = NodeWebSocket as unknown as WebSocketCtor;
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});
beforeEach(() => resetApprovalsForTests());

const rec = (id: string, createdAtMs: number, command = 'ls -la'): ApprovalRecord => ({
  id,
  createdAtMs,
  expiresAtMs: createdAtMs + 1_800_000,
  request: { sessionKey: 'main', agentId: 'ops', runId: `run-${id}`, tool: 'run_command', command, cwd: '/w' },
});

describe('approval list logic', () => {
  it('keeps pending approvals oldest first, replaces duplicates and drops settled ones', () => {
    let l = withRequested([], rec('b', 20));
    l = withRequested(l, rec('a', 10));
    l = withRequested(l, rec('b', 20, 'echo changed'));
    expect(l.map((a) => a.id)).toEqual(['a', 'b']);
    expect(l[1].request.command).toBe('echo changed');
    expect(withResolved(l, { id: 'a' }).map((a) => a.id)).toEqual(['b']);
    expect(withResolved(l, null)).toBe(l);
  });

  it('formats time left, elapsed time and outcomes', () => {
    expect(timeLeft(1_000 + 1_800_000, 1_000)).toBe('30m 00s left');
    expect(timeLeft(46_000, 1_000)).toBe('45s left');
    expect(timeLeft(2 * 3_600_000 + 5 * 60_000, 0)).toBe('2h 05m left');
    expect(timeLeft(1_000, 1_000)).toBe('expired');
    expect(elapsed(3_200)).toBe('3.2 s');
    expect(elapsed(250_000)).toBe('4m 10s');
    expect(elapsed(-1)).toBe('—');
    expect(outcomeText({ status: 'allowed', decision: 'allow-always' })).toBe('allowed always');
    expect(outcomeText({ status: 'denied', reason: 'gateway-restart' })).toBe('denied (gateway restarted)');
    expect(outcomeText({ status: 'expired', reason: 'expired' })).toBe('expired (denied)');
    expect(outcomeText({ status: 'expired', reason: 'run-aborted' })).toBe('cancelled (run stopped)');
  });
});

describe('approvals over a real WebSocket', () => {
  it('reads the pending list on hello, follows events and resolves', async () => {
    const calls: { method: string; params: any }[] = [];
    const gw = await startGateway({
      onRequest: (_conn, method, params, reply) => {
        calls.push({ method, params });
        if (method === 'exec.approval.list') reply(true, [rec('old', 5)]);
        else if (method === 'exec.approval.resolve') reply(true, { ok: true });
        else if (method === 'runs.active') reply(true, { runs: [{ runId: 'r1', sessionKey: 'main', agentId: 'ops', startedAtMs: 1, elapsedMs: 10, tool: 'run_command', waitingForApproval: true, waitingApprovalId: 'new' }] });
        else if (method === 'sessions.abort') reply(true, { ok: true, status: 'aborted', abortedRunId: params.runId });
        else reply(false, { code: 'INVALID_REQUEST', message: `unknown method: ${method}` });
      },
    });
    const bridge = new BridgeClient({ url: gw.url, WebSocketImpl: WS, requestTimeoutMs: 2000 });
    cleanup.push(() => gw.close(), () => bridge.stop());
    bridge.start();
    wireApprovals(bridge);
    wireApprovals(bridge); // idempotent
    await until(() => get(pendingApprovals).length === 1, 3000, 'the initial list');
    expect(get(pendingApprovals)[0].id).toBe('old');

    gw.conns[0].event('exec.approval.requested', rec('new', 50, 'rm -rf build'));
    await until(() => get(pendingApprovals).length === 2, 3000, 'the requested event');
    expect(get(arrived)?.id).toBe('new');

    gw.conns[0].event('exec.approval.resolved', { id: 'old', decision: 'deny', resolvedBy: 'key:1', resolvedAtMs: 60 });
    await until(() => get(pendingApprovals).length === 1, 3000, 'the resolved event');
    expect(get(approvalsVersion)).toBe(1);

    await resolveApproval(bridge, 'new', 'allow-once');
    expect(calls.find((c) => c.method === 'exec.approval.resolve')?.params).toEqual({ id: 'new', decision: 'allow-once' });
    expect(get(pendingApprovals)).toEqual([]);
    expect(get(arrived)).toBeNull();

    const runs = await loadActiveRuns(bridge);
    expect(runs[0].waitingForApproval).toBe(true);
    expect(await killRun(bridge, 'r1')).toBe(true);
    expect(calls.find((c) => c.method === 'sessions.abort')?.params).toEqual({ runId: 'r1' });
  });

  it('surfaces a refused decision as an error', async () => {
    const gw = await startGateway({
      onRequest: (_c, method, _p, reply) => {
        if (method === 'exec.approval.list') reply(true, []);
        else reply(false, { code: 'INVALID_REQUEST', message: 'approval already resolved', details: { reason: 'APPROVAL_ALREADY_RESOLVED' } });
      },
    });
    const bridge = new BridgeClient({ url: gw.url, WebSocketImpl: WS, requestTimeoutMs: 2000 });
    cleanup.push(() => gw.close(), () => bridge.stop());
    bridge.start();
    await expect(resolveApproval(bridge, 'x', 'deny')).rejects.toThrow('approval already resolved');
  });
});
