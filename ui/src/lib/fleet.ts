/**
 * Fleet page logic: the status label and tone of a gateway, the latency sparkline's columns
 * (uPlot layout: seconds, then milliseconds with `null` where a probe failed), and the rows
 * sorted with the local engine first.
 */
import type { FleetGateway, FleetProbe } from './api';

export type Tone = 'ok' | 'bad' | 'warn' | 'muted';

export function statusTone(status: FleetGateway['status']): Tone {
  if (status === 'up') return 'ok';
  if (status === 'down') return 'bad';
  if (status === 'auth_failed') return 'warn';
  return 'muted';
}

export function statusLabel(g: Pick<FleetGateway, 'status' | 'downProbes'>): string {
  switch (g.status) {
    case 'up':
      return 'up';
    case 'down':
      return g.downProbes && g.downProbes > 1 ? `down (${g.downProbes} probes)` : 'down';
    case 'auth_failed':
      return 'token refused';
    default:
      return 'not probed yet';
  }
}

/** `[xs (s), latencies (ms | null)]` oldest first: a failed probe is a gap, not a zero. */
export function sparkColumns(history: FleetProbe[]): [number[], (number | null)[]] {
  const rows = [...history].sort((a, b) => a.at - b.at);
  return [rows.map((r) => r.at / 1000), rows.map((r) => (r.status === 'up' ? r.latencyMs : null))];
}

/** The share of probes that were up (0..1), or null without history. */
export function upShare(history: FleetProbe[]): number | null {
  if (history.length === 0) return null;
  return history.filter((h) => h.status === 'up').length / history.length;
}

/** The local engine first, then remotes by name (then id). */
export function orderRows(rows: FleetGateway[]): FleetGateway[] {
  return [...rows].sort((a, b) => {
    if (a.local !== b.local) return a.local ? -1 : 1;
    return a.name.localeCompare(b.name) || Number(a.id) - Number(b.id);
  });
}

/** A gateway URL the server will take (ws, wss, http, https with a host), else why not. */
export function urlProblem(url: string): string | null {
  const u = url.trim();
  if (!/^(wss?|https?):\/\/[^\s/]+/.test(u)) return 'expected ws://, wss://, http:// or https:// followed by host:port';
  return null;
}

/** A remote transcript message's text: a string, OpenClaw content parts, or MicroClaw's `text`. */
export function messageText(m: { content?: unknown; text?: unknown }): string {
  if (typeof m.content === 'string') return m.content;
  if (Array.isArray(m.content))
    return m.content.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).filter(Boolean).join('\n');
  if (typeof m.text === 'string') return m.text;
  return '';
}
