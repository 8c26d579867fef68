/** The one HTTP client, the one bridge connection and the live stores every page reads. */
import { get, writable } from 'svelte/store';
import { createApi, createHttp } from './api';
import { BridgeClient, bridgeUrlFor, type ConnectionState } from './bridge';
import { launchToken } from './credentials';
import { notify } from './native';
import { navigate, route } from './router';
import { createStreamStore, type ChatEventPayload } from './streams';
import { toast } from './toasts';

export const VERSION = '0.1.0';

export const connState = writable<ConnectionState>('idle');
export const connDetail = writable<string>('');
export const presence = writable<any[]>([]);
export const health = writable<Record<string, any> | null>(null);
export const firingAlerts = writable<any[]>([]);
/** Bumped on every `slo.alert` and `incident` event: alert and incident views refetch. */
export const alertsVersion = writable(0);
/** The change freeze as the last `freeze` event (or fetch) said: `{active, reason, until, incidentId}`. */
export const freezeState = writable<Record<string, any> | null>(null);
/** Bumped on every `sessions.changed` so lists and trees refresh (debounced by readers). */
export const sessionsVersion = writable(0);
/** Bumped on each `device.pair.*` event (the Devices section refetches). */
export const devicesVersion = writable(0);
export const lastSessionChange = writable<{ key?: string; reason?: string } | null>(null);
export const streams = createStreamStore();
export const authed = writable(false);

export const api = createApi(
  createHttp({
    token: launchToken,
    onUnauthorized: () => {
      authed.set(false);
      if (!launchToken()) {
        const r = get(route);
        if (r.page !== 'login' && r.page !== 'setup') navigate('login', { next: r.page });
      }
    },
  }),
);

let bridge: BridgeClient | null = null;

export function getBridge(): BridgeClient {
  if (!bridge) {
    bridge = new BridgeClient({ url: bridgeUrlFor(location), token: launchToken(), clientVersion: VERSION });
    bridge.onState((s) => {
      connState.set(s);
      connDetail.set(bridge?.lastError ?? '');
    });
    bridge.on('hello', (h) => {
      presence.set(Array.isArray(h?.snapshot?.presence) ? h.snapshot.presence : []);
      health.set(h?.snapshot?.health ?? null);
    });
    bridge.on('chat', (p: ChatEventPayload) => streams.apply(p));
    bridge.on('presence', (p) => presence.set(Array.isArray(p?.presence) ? p.presence : []));
    bridge.on('health', (p) => health.set(p ?? null));
    bridge.on('sessions.changed', (p) => {
      lastSessionChange.set(p ?? null);
      sessionsVersion.update((n) => n + 1);
    });
    // Alert rule transitions (pending, firing, resolved, inactive): only firing rules are listed,
    // keyed by rule, so this agrees with the server's `alerts` (lib/alerts.ts).
    bridge.on('slo.alert', (p) => {
      const slo = String(p?.slo ?? 'slo');
      const rule = String(p?.rule ?? slo);
      if (p?.state === 'firing') {
        firingAlerts.update((list) => [...list.filter((a) => (a.rule ?? a.slo) !== rule), p]);
        void notify('SLO burning', `${slo} ${p?.severity ?? ''} alert firing`.trim());
      } else if (p?.state === 'resolved' || p?.state === 'inactive') {
        firingAlerts.update((list) => list.filter((a) => (a.rule ?? a.slo) !== rule));
        if (p?.state === 'resolved') toast(`SLO ${slo} recovered (${rule})`, 'success');
      }
      alertsVersion.update((n) => n + 1);
    });
    bridge.on('incident', () => alertsVersion.update((n) => n + 1));
    bridge.on('freeze', (p) => freezeState.set(p ?? null));
    for (const ev of ['device.pair.requested', 'device.pair.resolved', 'device.pair.changed']) {
      bridge.on(ev, () => devicesVersion.update((n) => n + 1));
    }
    bridge.on('device.pair.requested', (p) =>
      toast(`Device ${p?.displayName ?? String(p?.deviceId ?? '').slice(0, 12)} waits for approval (Auth page → Devices)`, 'info'));
    bridge.on('shutdown', (p) => toast(`The gateway is shutting down (${p?.reason ?? 'no reason given'}); reconnecting when it is back.`, 'info'));
    bridge.on('auth.failed', (p) => {
      connDetail.set(p?.message ?? 'unauthorized');
      if (!launchToken()) {
        authed.set(false);
        navigate('login');
      }
    });
  }
  return bridge;
}

/** Decides the first screen: desktop token → ready; else the auth status probe. */
export async function boot(): Promise<'ready' | 'login' | 'setup'> {
  if (launchToken()) {
    authed.set(true);
    getBridge().start();
    return 'ready';
  }
  const st = await api.authStatus();
  if (st.setup_required) return 'setup';
  if (!st.authenticated) return 'login';
  authed.set(true);
  getBridge().start();
  return 'ready';
}

export function afterLogin(): void {
  authed.set(true);
  getBridge().restart();
}

export async function logout(): Promise<void> {
  try {
    await api.logout();
  } finally {
    authed.set(false);
    bridge?.stop();
    navigate('login');
  }
}
