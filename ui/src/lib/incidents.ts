/** Incidents, the change freeze and config versions (`/api/incidents`, `/api/freeze`, `/api/config/versions`). */
import { ApiError, type Http } from './api';

export type IncidentStatus = 'open' | 'mitigated' | 'resolved';
export const SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'] as const;
export const STATUSES: IncidentStatus[] = ['open', 'mitigated', 'resolved'];

export interface TimelineEntry { id: number; ts: number; kind: 'alert' | 'note' | 'owner' | 'status' | 'config' | 'override' | string; text: string; actor: string; }
export interface Incident {
  id: number;
  title: string;
  severity: string;
  status: IncidentStatus;
  owner: string | null;
  slo: string | null;
  alertIds: string[];
  openedAt: number;
  mitigatedAt: number | null;
  resolvedAt: number | null;
  updatedAt: number;
  timeline?: TimelineEntry[];
}
export interface Freeze { active: boolean; reason: string | null; until: number | null; incidentId: number | null; auto?: boolean; setBy?: string | null; setAt?: number | null; }
export interface ConfigVersion { version: number; at: number; actor: string; source: string; text: string; changed: string[]; rolledBackTo: number | null; diff: string; current: boolean; }

export function createIncidentsApi(http: Http) {
  return {
    list: (status?: IncidentStatus) => http.get<{ incidents: Incident[] }>(`/api/incidents${status ? `?status=${status}` : ''}`),
    get: (id: number) => http.get<{ incident: Incident }>(`/api/incidents/${id}`),
    create: (title: string, severity: string) => http.post<{ incident: Incident }>('/api/incidents', { title, severity }),
    owner: (id: number, owner: string) => http.post(`/api/incidents/${id}/owner`, { owner }),
    note: (id: number, text: string) => http.post(`/api/incidents/${id}/notes`, { text }),
    status: (id: number, status: IncidentStatus) => http.post(`/api/incidents/${id}/status`, { status }),
    exportUrl: (id: number) => `/api/incidents/${id}/export?format=md`,
    freeze: () => http.get<Freeze>('/api/freeze'),
    setFreeze: (active: boolean, reason?: string) => http.request<Freeze>('PUT', '/api/freeze', { active, reason }),
    versions: () => http.get<{ currentVersion: number | null; versions: ConfigVersion[] }>('/api/config/versions'),
    rollback: (version: number) => http.post<{ version: number; rolledBackTo: number }>('/api/config/rollback', { version }),
  };
}

/** "Change freeze: page alert … is firing (incident #3, until 14:00)". */
export function freezeText(f: Partial<Freeze> | Record<string, any> | null | undefined, fmt: (ms: number) => string = (ms) => new Date(ms).toLocaleString()): string {
  if (!f?.active) return '';
  const parts: string[] = [];
  if (f.incidentId != null) parts.push(`incident #${f.incidentId}`);
  if (f.until != null) parts.push(`until ${fmt(f.until)}`);
  if (f.auto) parts.push('lifts when the page alerts resolve');
  return `Change freeze: ${f.reason ?? 'no reason given'}${parts.length ? ` (${parts.join(', ')})` : ''}. Non-critical changes are refused; sessions, chat and kills are not affected.`;
}

/** Whether an error is the change freeze refusing a change (HTTP 423 CHANGE_FREEZE). */
export function isFreezeError(e: unknown): boolean {
  return e instanceof ApiError && (e.code === 'CHANGE_FREEZE' || e.status === 423);
}

/** The open incidents first (newest first), then the rest. */
export function sortIncidents(list: Incident[]): Incident[] {
  const rank = (s: IncidentStatus) => (s === 'resolved' ? 1 : 0);
  return [...list].sort((a, b) => rank(a.status) - rank(b.status) || b.id - a.id);
}

export function durationText(i: Incident, now = Date.now()): string {
  const end = i.resolvedAt ?? now;
  const min = Math.max(0, Math.round((end - i.openedAt) / 60000));
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}
